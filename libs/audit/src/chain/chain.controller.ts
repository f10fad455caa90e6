import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { ZodQuery } from '@latchkey/problems';
import { z } from 'zod';
import { ANCHOR_PATTERN, parseAnchor } from './anchor-format';
import { ChainVerifier, type ChainReport } from './chain-verifier';

const verifyQuery = z.strictObject({
  fromSeq: z
    .string()
    .regex(/^[1-9][0-9]{0,17}$/, 'expected a positive integer')
    .optional(),
  anchor: z.string().regex(ANCHOR_PATTERN, 'expected <seq>:<64 hex digits>').optional(),
});

const seqString = { type: 'string', description: 'A global position (64-bit integer, as a string)' };
const reportSchema = {
  type: 'object',
  required: ['scope', 'intact', 'sealedThrough', 'checked', 'head', 'firstBreak', 'breaks', 'anchors'],
  properties: {
    scope: { type: 'string', enum: ['tenant'] },
    tenantId: { type: 'string', format: 'uuid' },
    intact: { type: 'boolean', description: 'No break and no anchor mismatch' },
    sealedThrough: { ...seqString, description: 'Positions up to here are sealed and were checked' },
    checked: {
      type: 'object',
      properties: { fromSeq: seqString, chainRows: { type: 'integer' }, events: { type: 'integer' } },
    },
    head: {
      type: 'object',
      nullable: true,
      description: "The tenant chain's last sealed link: keep it, and pass it later as `anchor`",
      properties: { seq: seqString, link: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
    },
    firstBreak: {
      type: 'object',
      nullable: true,
      properties: {
        seq: seqString,
        kind: { type: 'string', enum: ['modified', 'missing', 'inserted', 'reordered'] },
        detail: { type: 'string' },
        sealedEventId: { type: 'string', format: 'uuid' },
        foundEventId: { type: 'string', format: 'uuid' },
        sealedAtSeq: seqString,
      },
    },
    breaks: { type: 'integer', description: 'Positions where the chain breaks (the first is classified)' },
    anchors: {
      type: 'object',
      properties: {
        checked: { type: 'integer' },
        firstMismatch: {
          type: 'object',
          nullable: true,
          properties: {
            seq: seqString,
            link: { type: 'string' },
            storedLink: { type: 'string', nullable: true },
          },
        },
      },
    },
  },
};

/**
 * B3 for a tenant's auditor: the tenant's own chain, recomputed from the tenant's events. Another
 * tenant's events and links are never read, so a break elsewhere neither shows nor leaks here; the
 * global chain (every tenant) is the operator's, through `latchkey audit verify-chain`.
 */
@ApiTags('audit')
@Controller('v1/audit/chain')
@Roles('auditor')
export class ChainController {
  constructor(private readonly verifier: ChainVerifier) {}

  @Get('verify')
  @ApiOperation({
    summary: "Verify that the tenant's stored history is intact (B3)",
    description:
      "Recomputes the tenant's hash chain from its events and compares it with the sealed chain, " +
      'reporting the first position where it breaks and how (modified, missing, inserted, reordered). ' +
      'Events are sealed about a second after they commit; later ones are not covered yet. The chain ' +
      'lives in the same database, so a writer who rewrites it consistently is caught only by an anchor ' +
      'kept elsewhere: save `head` from a report, pass it back as `anchor` later.',
  })
  @ApiQuery({
    name: 'fromSeq',
    required: false,
    description: 'Start at this position (trusting the link before it)',
  })
  @ApiQuery({
    name: 'anchor',
    required: false,
    description: '`<seq>:<link>` from an earlier report: the chain must still hold this link there',
  })
  @ApiOkResponse({
    description: 'The verification report (a broken chain is a 200 with intact: false)',
    schema: reportSchema,
  })
  verify(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodQuery(verifyQuery)) query: z.infer<typeof verifyQuery>,
  ): Promise<ChainReport> {
    return this.verifier.verify({
      tenantId: principal.tenantId,
      fromSeq: query.fromSeq === undefined ? undefined : BigInt(query.fromSeq),
      anchors: query.anchor === undefined ? [] : [parseAnchor(query.anchor)!],
    });
  }
}
