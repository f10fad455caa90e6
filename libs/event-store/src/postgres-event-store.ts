import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  ConcurrencyError,
  type AppendContext,
  type EventEnvelope,
  type ExpectedVersion,
  type NewEvent,
} from './event-envelope';

/** Runs inside the append's transaction: projections that must be consistent the instant it returns. */
export type InlineProjection = (tx: EntityManager, events: readonly EventEnvelope[]) => Promise<void>;

export interface AppendRequest {
  streamId: string;
  streamType: string;
  expectedVersion: ExpectedVersion;
  events: readonly NewEvent[];
  context: AppendContext;
  inline?: InlineProjection;
}

/** An events row as the driver returns it. */
export interface EventRow {
  seq: string;
  id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  tenant_id: string | null;
  actor: EventEnvelope['actor'];
  causation_id: string | null;
  correlation_id: string | null;
  data: unknown;
  occurred_at: Date;
  recorded_at: Date;
}

const COLUMNS = [
  'seq',
  'id',
  'stream_id',
  'version',
  'type',
  'schema_version',
  'tenant_id',
  'actor',
  'causation_id',
  'correlation_id',
  'data',
  'occurred_at',
  'recorded_at',
];

/** The columns an EventRow holds, qualified by a table alias if given, for queries that read events. */
export const eventColumns = (alias?: string): string =>
  COLUMNS.map((column) => (alias ? `${alias}.${column}` : column)).join(', ');

/**
 * The event store on PostgreSQL (tables from the EventStoreSchema migration). One append is one
 * transaction: stream version check, events, outbox rows and inline projections commit together.
 */
@Injectable()
export class PostgresEventStore {
  constructor(private readonly db: DataSource) {}

  async append(request: AppendRequest): Promise<EventEnvelope[]> {
    const { streamId, events } = request;
    if (events.length === 0) return [];
    try {
      // PostgreSQL's default READ COMMITTED; naming it would cost a SET TRANSACTION round trip per append.
      return await this.db.transaction(async (tx) => {
        const newVersion = await this.advanceStream(tx, request);
        const stored = await this.insertEvents(tx, request, newVersion - events.length);
        await tx.query(`INSERT INTO outbox (event_seq) SELECT unnest($1::bigint[])`, [
          stored.map((e) => e.seq.toString()),
        ]);
        await request.inline?.(tx, stored);
        return stored;
      });
    } catch (error) {
      // Two writers that saw the same version both try to insert (stream_id, version): one loses.
      if (isUniqueViolation(error)) throw new ConcurrencyError(streamId, request.expectedVersion);
      throw error;
    }
  }

  /** Moves the stream's version forward, or throws ConcurrencyError; returns the new version. */
  private async advanceStream(tx: EntityManager, request: AppendRequest): Promise<number> {
    const { streamId, streamType, expectedVersion, events, context } = request;
    const n = events.length;
    if (expectedVersion === 0) {
      const [row] = await tx.query(
        `INSERT INTO streams (id, type, tenant_id, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO NOTHING RETURNING version`,
        [streamId, streamType, context.tenantId, n],
      );
      if (!row) throw new ConcurrencyError(streamId, expectedVersion);
      return row.version;
    }
    if (expectedVersion === 'any') {
      const [row] = await tx.query(
        `INSERT INTO streams (id, type, tenant_id, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET version = streams.version + $4, updated_at = now()
         RETURNING version`,
        [streamId, streamType, context.tenantId, n],
      );
      return row.version;
    }
    const [rows] = await tx.query(
      `UPDATE streams SET version = version + $3, updated_at = now()
       WHERE id = $1 AND version = $2 RETURNING version`,
      [streamId, expectedVersion, n],
    );
    const row = Array.isArray(rows) ? rows[0] : undefined;
    if (!row) throw new ConcurrencyError(streamId, expectedVersion);
    return row.version;
  }

  private async insertEvents(tx: EntityManager, request: AppendRequest, fromVersion: number) {
    const { streamId, events, context } = request;
    const rows: EventRow[] = await tx.query(
      `INSERT INTO events (id, stream_id, version, type, schema_version, tenant_id, actor, causation_id,
         correlation_id, data, occurred_at)
       SELECT id, $1, version, type, schema_version, $2, $3, $4, $5, data, coalesce(occurred_at, $6)
       FROM unnest($7::uuid[], $8::int[], $9::text[], $10::int[], $11::jsonb[], $12::timestamptz[])
         AS e(id, version, type, schema_version, data, occurred_at)
       ORDER BY version
       RETURNING ${eventColumns()}`,
      [
        streamId,
        context.tenantId,
        JSON.stringify(context.actor),
        context.causationId ?? null,
        context.correlationId ?? null,
        context.occurredAt,
        events.map(() => randomUUID()),
        events.map((_, i) => fromVersion + i + 1),
        events.map((e) => e.type),
        events.map((e) => e.schemaVersion ?? 1),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => e.occurredAt ?? null),
      ],
    );
    return rows.map(toEnvelope);
  }

  async readStream(streamId: string, afterVersion = 0): Promise<EventEnvelope[]> {
    const rows: EventRow[] = await this.db.query(
      `SELECT ${eventColumns()} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version`,
      [streamId, afterVersion],
    );
    return rows.map(toEnvelope);
  }

  /**
   * Events after `afterSeq`, in order, up to the high-water mark: only rows whose transaction
   * precedes every transaction still in flight. Sequences are taken at insert but become visible at
   * commit, so a plain `seq > checkpoint` reader would skip a row that commits late.
   */
  async readAll(afterSeq: bigint, limit = 1_000): Promise<EventEnvelope[]> {
    const rows: EventRow[] = await this.db.query(
      `SELECT ${eventColumns()} FROM events
       WHERE seq > $1 AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY seq LIMIT $2`,
      [afterSeq.toString(), limit],
    );
    return rows.map(toEnvelope);
  }
}

export function toEnvelope(row: EventRow): EventEnvelope {
  return {
    seq: BigInt(row.seq),
    id: row.id,
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    schemaVersion: row.schema_version,
    tenantId: row.tenant_id,
    actor: row.actor,
    causationId: row.causation_id,
    correlationId: row.correlation_id,
    data: row.data,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
  };
}

/**
 * Only a clash on a stream's version is a concurrency conflict. Other unique violations (say, a
 * read model's unique username written by an inline projection) belong to the caller to explain.
 */
function isUniqueViolation(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })?.driverError;
  return (
    driverError?.code === '23505' &&
    ['events_stream_version', 'streams_pkey'].includes(driverError.constraint ?? '')
  );
}
