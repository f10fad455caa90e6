import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { Clock } from '@latchkey/app-passwords';
import { DELAY_MODEL_KINDS } from '@latchkey/directory-sync';
import { ZodBody } from '@latchkey/problems';
import { counterfactualRequest, MAX_PERIOD_DAYS, type CounterfactualRequest } from './counterfactual-request';
import {
  CounterfactualQueries,
  MAX_CHANGES,
  MAX_SIGN_INS,
  type CounterfactualAnswer,
} from './counterfactual.queries';

const window = {
  type: 'object',
  properties: {
    until: { type: 'string', format: 'date-time' },
    windowMs: { type: 'integer' },
    signIns: { type: 'integer' },
  },
};
const total = {
  type: 'object',
  properties: Object.fromEntries(
    [
      'offboardings',
      'actualWindowMs',
      'counterfactualWindowMs',
      'windowDeltaMs',
      'actualSignIns',
      'counterfactualSignIns',
      'signInDelta',
    ].map((name) => [name, { type: 'integer' }]),
  ),
};
const read = {
  type: 'object',
  properties: { rows: { type: 'integer' }, cap: { type: 'integer' }, truncated: { type: 'boolean' } },
};

/**
 * B5 for auditors: the tenant's offboardings of a period re-run under another delay model. A POST
 * because the model is a structured object (a cycle's anchor, a uniform draw's seed) that a query
 * string would flatten into ad-hoc parameters; it reads the history and writes nothing, so it answers
 * 200, and repeating it gives the same answer (the models are seeded).
 */
@ApiTags('audit')
@Controller('v1/audit/counterfactual')
@Roles('auditor')
export class CounterfactualController {
  constructor(
    private readonly queries: CounterfactualQueries,
    private readonly clock: Clock,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'B5: how the exposure windows of a period’s offboardings, and the sign-ins inside them, would have differed under another delay model (read-only)',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['from', 'to', 'model'],
      additionalProperties: false,
      properties: {
        from: {
          type: 'string',
          format: 'date-time',
          description: 'Offboardings detected at or after this instant (ISO 8601 with Z or an offset)',
        },
        to: {
          type: 'string',
          format: 'date-time',
          description: `…and before this one; at most ${MAX_PERIOD_DAYS} days after \`from\``,
        },
        model: {
          type: 'object',
          description:
            'A delay model exactly as a directory connection takes it (R8): `kind` and its fields, defaults filled in. ' +
            'Durations are whole milliseconds from 0 to a week.',
          required: ['kind'],
          properties: { kind: { type: 'string', enum: [...DELAY_MODEL_KINDS] } },
          additionalProperties: true,
          example: { kind: 'fixed', delayMs: 900000 },
        },
      },
    },
  })
  @ApiOkResponse({
    description: `Per offboarding and in total. At most ${MAX_CHANGES} offboardings and ${MAX_SIGN_INS} sign-in attempts are read; \`reads\` says whether either cap was reached.`,
    schema: {
      type: 'object',
      properties: {
        tenantId: { type: 'string', format: 'uuid' },
        from: { type: 'string', format: 'date-time' },
        to: { type: 'string', format: 'date-time' },
        model: { type: 'object', additionalProperties: true, description: 'The model, defaults filled in' },
        now: { type: 'string', format: 'date-time', description: 'Open windows are measured up to it' },
        offboardings: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              changeId: { type: 'string', format: 'uuid' },
              supersededBy: { type: 'array', items: { type: 'string', format: 'uuid' } },
              userId: { type: 'string', format: 'uuid' },
              upn: { type: 'string' },
              objectGuid: { type: 'string' },
              kind: { type: 'string', enum: ['disabled', 'deleted'] },
              timeline: { type: 'object', additionalProperties: { type: 'string', nullable: true } },
              actual: {
                ...window,
                properties: {
                  ...window.properties,
                  from: { type: 'string', format: 'date-time' },
                  open: { type: 'boolean' },
                },
              },
              counterfactual: {
                ...window,
                properties: { ...window.properties, dueAt: { type: 'string', format: 'date-time' } },
              },
              windowDeltaMs: { type: 'integer', description: 'Positive: exposed longer under the model' },
              signInDelta: {
                type: 'integer',
                description:
                  'Positive: refused sign-ins that would have succeeded; negative: successes that would have been refused',
              },
            },
          },
        },
        total,
        excluded: {
          type: 'array',
          items: { type: 'object', properties: { changeId: { type: 'string' }, reason: { type: 'string' } } },
        },
        reads: { type: 'object', properties: { changes: read, signIns: read } },
      },
    },
  })
  @ApiBadRequestResponse({
    description:
      'Bad instants, `from` not before `to`, a period too long, or a delay model the directory connection would refuse (problem+json `validation-failed`)',
  })
  run(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBody(counterfactualRequest)) body: CounterfactualRequest,
  ): Promise<CounterfactualAnswer> {
    return this.queries.report(principal.tenantId, body, this.clock.now());
  }
}
