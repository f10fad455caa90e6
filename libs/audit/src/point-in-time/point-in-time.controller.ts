import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import {
  ADMINISTRATIVE_PROTOCOLS,
  isAdministrativeProtocol,
  LEGACY_PROTOCOLS,
  parseLegacyProtocol,
} from '@latchkey/app-passwords';
import { CanonicalUuid, ZodQuery, instantSchema } from '@latchkey/problems';
import { z } from 'zod';
import { PointInTimeQueries } from './point-in-time.queries';
import type { SignInCheck } from './sign-in-check';
import type { PointInTimeState } from './state-at';

/** An instant with its offset (`Z` or `±hh:mm`: in a query string, `+` must be sent as `%2B`). */
const instant = instantSchema;

const PROTOCOLS = [...LEGACY_PROTOCOLS, ...ADMINISTRATIVE_PROTOCOLS];

const stateQuery = z.strictObject({ at: instant });
const signInCheckQuery = z.strictObject({
  at: instant,
  // The protocols a gateway may ask verification about, administrative ones included (R4).
  protocol: z
    .string()
    .max(32)
    .refine(
      (value) => parseLegacyProtocol(value) !== undefined || isAdministrativeProtocol(value),
      `must be one of ${PROTOCOLS.join(', ')}`,
    ),
  clientIp: z.union([z.ipv4(), z.ipv6()]).optional(),
});

const ref = {
  type: 'object',
  description: 'The event that made it so: its position, stream, version, type and instants.',
  properties: {
    seq: { type: 'string' },
    streamId: { type: 'string' },
    version: { type: 'integer' },
    type: { type: 'string' },
    occurredAt: { type: 'string', format: 'date-time' },
    recordedAt: { type: 'string', format: 'date-time' },
  },
};
const refs = { type: 'array', items: ref };
const appPassword = {
  type: 'object',
  properties: {
    appPasswordId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    protocols: { type: 'array', nullable: true, items: { type: 'string', enum: [...LEGACY_PROTOCOLS] } },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', nullable: true },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
    revokedReason: { type: 'string', nullable: true },
    because: refs,
  },
};
const user = {
  type: 'object',
  description: '`{status: "absent"}` before the user was provisioned.',
  properties: {
    status: { type: 'string', enum: ['absent', 'active', 'disabled', 'deleted'] },
    userId: { type: 'string', format: 'uuid' },
    username: { type: 'string' },
    source: { type: 'string', enum: ['cloud', 'synced'] },
    roles: { type: 'array', items: { type: 'string' } },
    mfa: { type: 'string', enum: ['disabled', 'enabled', 'enforced'] },
    mfaRegistered: { type: 'boolean' },
    requiresModernAuth: { type: 'boolean' },
    signInsSuspended: { type: 'boolean' },
    because: { type: 'object', additionalProperties: ref, description: 'Per fact, the event that set it.' },
  },
};
const tenant = {
  type: 'object',
  description: '`{status: "absent"}` before the tenant was created.',
  properties: {
    status: { type: 'string', enum: ['absent', 'created'] },
    tenantId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    policy: { type: 'object', additionalProperties: true },
    because: {
      type: 'object',
      additionalProperties: ref,
      description: 'Per setting (`legacyAuthBlocked`, `lockout.threshold`…), the event that set it.',
    },
  },
};
const cut = {
  recordedAfter: { ...refs, description: 'Applied: occurred at or before `at`, recorded after it.' },
  outOfOrder: { ...refs, description: 'Not applied: claim an instant ≤ `at` but follow a later event.' },
};
const atQuery = {
  name: 'at',
  required: true,
  description:
    'The instant (ISO 8601 with `Z` or an offset; send `+` as `%2B`). Events count by when they occurred, at or before it.',
  schema: { type: 'string', format: 'date-time' },
} as const;

/**
 * B4 for auditors: state at an instant, and "could this app password sign in then?", from the
 * history alone. The tenant is the token's; a user or app password of another tenant is not found,
 * exactly as one that does not exist.
 */
@ApiTags('audit')
@Controller('v1/audit/users')
@Roles('auditor')
export class PointInTimeController {
  constructor(private readonly queries: PointInTimeQueries) {}

  @Get(':userId/state')
  @ApiOperation({
    summary:
      'B4: a user, their app passwords and the tenant policy at an instant, with the events that made it so',
  })
  @ApiParam({ name: 'userId', format: 'uuid' })
  @ApiQuery(atQuery)
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        at: { type: 'string', format: 'date-time' },
        user,
        appPasswords: { type: 'array', items: appPassword },
        tenant,
        ...cut,
      },
    },
  })
  @ApiBadRequestResponse({ description: 'A malformed id or instant (problem+json)' })
  @ApiNotFoundResponse({ description: 'No such user in the caller’s tenant (problem+json `user.not-found`)' })
  state(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
    @Query(new ZodQuery(stateQuery)) query: z.infer<typeof stateQuery>,
  ): Promise<PointInTimeState> {
    return this.queries.state(principal.tenantId, userId, query.at);
  }

  @Get(':userId/app-passwords/:appPasswordId/sign-in-check')
  @ApiOperation({
    summary:
      'B4: could this app password sign in at an instant over a protocol, and if not, why not (verification’s own rules and reason codes)',
  })
  @ApiParam({ name: 'userId', format: 'uuid' })
  @ApiParam({ name: 'appPasswordId', format: 'uuid' })
  @ApiQuery(atQuery)
  @ApiQuery({ name: 'protocol', required: true, schema: { type: 'string', enum: PROTOCOLS } })
  @ApiQuery({
    name: 'clientIp',
    required: false,
    description:
      'B8 is kept per client network: with it, smart lockout is rebuilt from the attempts recorded before the instant; without it, not considered.',
    schema: { type: 'string' },
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        at: { type: 'string', format: 'date-time' },
        appPasswordId: { type: 'string', format: 'uuid' },
        protocol: { type: 'string' },
        clientIp: { type: 'string', nullable: true },
        allowed: { type: 'boolean' },
        reason: { type: 'string', nullable: true, description: 'As verification names it' },
        rule: { type: 'string', nullable: true },
        because: { ...refs, description: 'What refused it, or, when allowed, every fact checked' },
        notes: { type: 'array', items: { type: 'string' } },
        appPassword: { ...appPassword, nullable: true },
        user,
        tenant,
        lockout: {
          type: 'object',
          properties: {
            considered: { type: 'boolean' },
            status: { type: 'object', additionalProperties: true },
            attemptsReplayed: { type: 'integer' },
            lockedBy: { ...ref, nullable: true },
            contradictions: { type: 'array', items: { type: 'object', additionalProperties: true } },
            assumptions: { type: 'array', items: { type: 'string' } },
          },
        },
        ...cut,
      },
    },
  })
  @ApiBadRequestResponse({ description: 'A malformed id, instant, protocol or client IP (problem+json)' })
  @ApiNotFoundResponse({
    description:
      'No such user in the caller’s tenant (`user.not-found`), or no such app password of theirs (`app-password.not-found`)',
  })
  signInCheck(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
    @Param('appPasswordId', CanonicalUuid) appPasswordId: string,
    @Query(new ZodQuery(signInCheckQuery)) query: z.infer<typeof signInCheckQuery>,
  ): Promise<SignInCheck> {
    return this.queries.signInCheck(principal.tenantId, userId, {
      appPasswordId,
      at: query.at,
      protocol: query.protocol,
      clientIp: query.clientIp,
    });
  }
}
