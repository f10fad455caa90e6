import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyDecorators, Controller, Get, Logger, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { requestIdOf, ZodQuery } from '@latchkey/problems';
import { exportErrorLine, toNdjson } from './audit-event';
import { EventHistoryReader, type HistoryPage } from './event-history.reader';
import {
  DEFAULT_PAGE_LIMIT,
  historyFilterSchema,
  historyPageSchema,
  MAX_PAGE_LIMIT,
  toHistoryFilter,
  type HistoryPageQuery,
} from './history-filter';

const FilterQueries = () =>
  applyDecorators(
    ApiQuery({
      name: 'userId',
      required: false,
      description:
        "The user's own stream (`user-<id>`) and every other event of the tenant whose `data.userId` " +
        'is this user (legacy sign-in attempts, offboarding, directory changes).',
    }),
    ApiQuery({ name: 'streamId', required: false, description: 'One stream, e.g. `user-<id>`.' }),
    ApiQuery({
      name: 'type',
      required: false,
      description: 'Event type(s): repeat the parameter or separate with commas (any of them matches).',
    }),
    ApiQuery({
      name: 'from',
      required: false,
      description: 'ISO 8601 instant with offset; events with `occurredAt` ≥ from.',
    }),
    ApiQuery({
      name: 'to',
      required: false,
      description: 'ISO 8601 instant with offset; events with `occurredAt` < to (exclusive).',
    }),
  );

const envelopeSchema = {
  type: 'object',
  properties: {
    seq: { type: 'string', description: 'Global position (a 64-bit integer, as a string)' },
    id: { type: 'string', format: 'uuid' },
    streamId: { type: 'string' },
    version: { type: 'integer' },
    type: { type: 'string' },
    schemaVersion: { type: 'integer' },
    actor: { type: 'object', properties: { kind: { type: 'string' }, id: { type: 'string' } } },
    causationId: { type: 'string', format: 'uuid', nullable: true },
    correlationId: { type: 'string', format: 'uuid', nullable: true },
    data: { type: 'object', description: 'As stored, without secret-derived members (verifiers)' },
    occurredAt: { type: 'string', format: 'date-time' },
    recordedAt: { type: 'string', format: 'date-time' },
  },
};

/**
 * Auditors read the tenant's history (read-only). The tenant is the token's; events of other tenants
 * are not filtered out afterwards but never selected (`tenant_id = <token's tenant>` in every statement).
 */
@ApiTags('audit')
@Controller('v1/audit/events')
@Roles('auditor')
export class HistoryController {
  private readonly logger = new Logger(HistoryController.name);

  constructor(private readonly history: EventHistoryReader) {}

  @Get()
  @ApiOperation({
    summary: "A page of the tenant's events, in global order",
    description:
      `Keyset pagination on the global position: pass \`next\` back as \`cursor\` (with the same filters) ` +
      `until it is null. \`limit\` 1 to ${MAX_PAGE_LIMIT}, default ${DEFAULT_PAGE_LIMIT}. Only events whose ` +
      'transaction precedes every one still running are returned, so a walk never skips one that commits ' +
      "late. With a user, type or time filter a page reads at most 50,000 of the tenant's events: it may " +
      'then hold fewer than `limit` events, even none, with a `next` cursor to continue.',
  })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${MAX_PAGE_LIMIT}` })
  @ApiQuery({ name: 'cursor', required: false, description: 'The `next` of the previous page' })
  @FilterQueries()
  @ApiOkResponse({
    description: 'Events and the cursor of the next page',
    schema: {
      type: 'object',
      properties: {
        events: { type: 'array', items: envelopeSchema },
        next: { type: 'string', nullable: true },
      },
    },
  })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodQuery(historyPageSchema)) query: HistoryPageQuery,
  ): Promise<HistoryPage> {
    return this.history.page(principal.tenantId, toHistoryFilter(query), {
      limit: query.limit ?? DEFAULT_PAGE_LIMIT,
      cursor: query.cursor,
    });
  }

  @Get('export')
  @ApiOperation({
    summary: "The tenant's filtered history as NDJSON, streamed",
    description:
      'One event (the same envelope as the list) per line, in global order, read in batches of 1,000 ' +
      'and written as fast as the client reads. Errors before the first byte are problem+json. A failure ' +
      'after it cannot change the 200: the stream then ends with one line `{"error": {...}}` (no event has a ' +
      'top-level `error` member); an export without it is complete.',
  })
  @ApiProduces('application/x-ndjson')
  @FilterQueries()
  @ApiOkResponse({ description: 'NDJSON: one event envelope per line', schema: envelopeSchema })
  async export(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodQuery(historyFilterSchema)) query: ReturnType<typeof historyFilterSchema.parse>,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const batches = this.history.batches(principal.tenantId, toHistoryFilter(query));
    // The first batch before any header: a database that cannot answer is still a 503 problem.
    let batch = await batches.next();
    // Set when the client has gone (or the response ended): no statement is sent after it.
    const client = { gone: false };
    res.once('close', () => (client.gone = true));
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      while (!batch.done && !client.gone) {
        // Backpressure: a slow reader leaves the next statement unsent until its socket drains.
        if (!res.write(toNdjson(batch.value))) await drained(res);
        if (client.gone) break;
        batch = await batches.next();
      }
    } catch (error) {
      this.logger.error(
        `${requestIdOf(req)} export failed after it started`,
        error instanceof Error ? error.stack : String(error),
      );
      if (!client.gone) res.write(exportErrorLine(requestIdOf(req)));
    } finally {
      // A client that left ends the generator here: no further statement is sent.
      await batches.return(undefined);
      res.end();
    }
  }
}

/** Resolves when the socket can take more, or when it is gone (then nothing more will drain). */
async function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return;
  const controller = new AbortController();
  try {
    await Promise.race([
      once(res, 'drain', { signal: controller.signal }),
      once(res, 'close', { signal: controller.signal }),
    ]);
  } finally {
    controller.abort();
  }
}
