import { Injectable } from '@nestjs/common';
import type { EventRow } from '@latchkey/event-store';
import { DataSource } from 'typeorm';
import { toAuditEvent, type AuditEvent } from './audit-event';
import { decodeCursor, encodeCursor, filterFingerprint } from './history-cursor';
import type { HistoryFilter } from './history-filter';
import { countHistory, needsScanBudget, scanBound, selectHistory, type Sql } from './history-query';

export interface HistoryPage {
  events: AuditEvent[];
  /** Pass as `cursor` for the next page; null when no more events are visible now. */
  next: string | null;
}

/** How many of the tenant's events one filtered page reads at most (see scanBound). */
export const PAGE_SCAN_BUDGET = 50_000;
/** Rows per statement of an export: memory is this many events, whatever the export's size. */
export const EXPORT_BATCH_SIZE = 1_000;

/**
 * Reads a tenant's history for auditors: pages for the API and the CLI, batches for exports. Used by
 * the API (through Nest) and by the CLI (constructed on its own DataSource); the only way either
 * reads the events table for auditors, so the tenant condition and the redaction cannot be forgotten.
 */
@Injectable()
export class EventHistoryReader {
  constructor(private readonly db: DataSource) {}

  async page(
    tenantId: string,
    filter: HistoryFilter,
    options: { limit: number; cursor?: string; scanBudget?: number },
  ): Promise<HistoryPage> {
    const fingerprint = filterFingerprint(tenantId, filter);
    const after = options.cursor === undefined ? 0n : decodeCursor(options.cursor, fingerprint);
    let upTo: bigint | undefined;
    if (needsScanBudget(filter)) {
      const [bound] = await this.rows<{ seq: string }>(
        scanBound(tenantId, after, options.scanBudget ?? PAGE_SCAN_BUDGET),
      );
      upTo = bound ? BigInt(bound.seq) : undefined;
    }
    // One more than asked, so that the last page says so instead of pointing at an empty one.
    const rows = await this.rows<EventRow>(
      selectHistory(tenantId, filter, { after, upTo, limit: options.limit + 1 }),
    );
    const events = rows.slice(0, options.limit).map(toAuditEvent);
    let next: bigint | undefined;
    if (rows.length > options.limit) next = BigInt(events[events.length - 1].seq);
    else if (upTo !== undefined) next = upTo; // the budget ran out: the rest is after what was read
    return { events, next: next === undefined ? null : encodeCursor(next, fingerprint) };
  }

  /**
   * The whole filtered history in seq order, EXPORT_BATCH_SIZE events at a time: one short statement
   * per batch (keyset on seq), so no connection or snapshot is held between batches and a consumer
   * that stops pulling (slow socket, closed client) stops the reading.
   */
  async *batches(
    tenantId: string,
    filter: HistoryFilter,
    options: { batchSize?: number; after?: bigint } = {},
  ): AsyncGenerator<AuditEvent[], void, undefined> {
    const batchSize = options.batchSize ?? EXPORT_BATCH_SIZE;
    let after = options.after ?? 0n;
    for (;;) {
      const rows = await this.rows<EventRow>(selectHistory(tenantId, filter, { after, limit: batchSize }));
      if (rows.length === 0) return;
      yield rows.map(toAuditEvent);
      if (rows.length < batchSize) return;
      after = BigInt(rows[rows.length - 1].seq);
    }
  }

  async count(tenantId: string, filter: HistoryFilter): Promise<number> {
    const [{ count }] = await this.rows<{ count: string }>(countHistory(tenantId, filter));
    return Number(count);
  }

  private rows<T>(sql: Sql): Promise<T[]> {
    return this.db.query(sql.text, sql.values);
  }
}
