import type { IncomingMessage } from 'node:http';
import { Controller, Get, Headers, HttpCode, Module, Param, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Public, Roles, type Principal } from '@latchkey/access';
import { Clock, normaliseUsername, NotFoundError } from '@latchkey/app-passwords';
import { CanonicalUuid, instantSchema, plainTextSchema, ProblemError, ZodBody } from '@latchkey/problems';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { verifyWebhookSignature, SIGNATURE_HEADER } from '../domain/webhook-signature';
import { HrWebhookSecrets } from './hr-webhook-secrets.store';
import { OffboardingModule } from './offboarding.module';
import { OffboardingTimeline } from './offboarding-timeline';
import { RequestOffboarding } from './request-offboarding';

const hrRequestSchema = z.strictObject({
  // As accounts hold it (NFKC, trimmed, lower-case), or refused.
  username: z
    .string()
    .max(256)
    .transform((value, ctx) => {
      const username = normaliseUsername(value);
      if (username === undefined)
        ctx.addIssue({ code: 'custom', message: 'must be a user principal name (name@domain)' });
      return username ?? z.NEVER;
    }),
  action: z.enum(['disable', 'delete']),
  effectiveAt: instantSchema.transform((date) => date.toISOString()).optional(),
  reason: plainTextSchema(500).optional(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RAW_BODY = Symbol.for('latchkey.raw-body'); // where configureHttp keeps the bytes received

/** One answer for every authentication failure: it says neither which tenant exists nor what was wrong. */
const unauthenticated = () =>
  new ProblemError(401, 'invalid-signature', 'Invalid signature', {
    detail:
      'The request is not signed with a secret this tenant accepts, or its timestamp is too old or new.',
  });

/**
 * HR offboarding. The webhook has no bearer token: the tenant's HMAC secret authenticates it
 * (Latchkey-Signature over the raw body); the secret and timelines need a tenant admin (or auditor).
 */
@ApiTags('offboarding')
@Controller('v1/offboarding')
export class OffboardingController {
  constructor(
    private readonly secrets: HrWebhookSecrets,
    private readonly requests: RequestOffboarding,
    private readonly timelines: OffboardingTimeline,
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** A new secret, shown once; the previous one keeps verifying for 24 h. */
  @Post('webhook-secret')
  @HttpCode(201)
  @Roles('tenant-admin')
  async rotateSecret(@CurrentPrincipal() principal: Principal) {
    const [tenant] = await this.db.query(`SELECT 1 FROM tenants WHERE tenant_id = $1`, [principal.tenantId]);
    if (!tenant) throw new NotFoundError('tenant.not-found', 'There is no such tenant.');
    return this.secrets.rotate(principal.tenantId, principal.subject, this.clock.now());
  }

  @Post('hr-requests')
  @HttpCode(202)
  @Public()
  async hrRequest(
    @Req() req: IncomingMessage & { [RAW_BODY]?: Buffer; body?: unknown },
    @Headers('latchkey-tenant') tenantId: string | undefined,
    @Headers(SIGNATURE_HEADER) signature: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    if (!idempotencyKey || idempotencyKey.length > 128 || !/^[\x21-\x7e]+$/.test(idempotencyKey)) {
      throw new ProblemError(400, 'idempotency-key-required', 'Idempotency key required', {
        detail: 'Send an Idempotency-Key header of 1 to 128 visible ASCII characters.',
      });
    }
    const now = this.clock.now();
    const rawBody = req[RAW_BODY] ?? Buffer.alloc(0);
    const secrets =
      tenantId && UUID.test(tenantId) ? await this.secrets.accepted(tenantId.toLowerCase(), now) : [];
    // An unknown tenant is checked against no secret: the same refusal as a wrong signature.
    if (!verifyWebhookSignature(signature, rawBody, secrets, now).valid) throw unauthenticated();

    // Validated only once authenticated: an unsigned caller learns nothing about the expected shape.
    const body = new ZodBody(hrRequestSchema).transform(req.body);
    return this.requests.execute(tenantId!.toLowerCase(), idempotencyKey, rawBody, body);
  }

  /** B1: the timeline and the exposure window, with the sign-ins that succeeded inside it. */
  @Get(':id')
  @Roles('tenant-admin', 'auditor')
  timeline(@CurrentPrincipal() principal: Principal, @Param('id', CanonicalUuid) id: string) {
    return this.timelines.of(principal.tenantId, id);
  }
}

/** The offboarding routes, for the API only. */
@Module({ imports: [OffboardingModule], controllers: [OffboardingController] })
export class OffboardingHttpModule {}
