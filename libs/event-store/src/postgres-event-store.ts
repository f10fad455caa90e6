import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { queryPrepared } from '@latchkey/persistence';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
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

  /**
   * `connection`: a connection the caller holds for itself (a hot writer that must not queue behind
   * the pool's readers); only for appends without a function inline projection. There the append
   * runs as a prepared statement: a hot writer's statement is planned once, not on every append.
   */
  async append(request: AppendRequest, connection?: QueryRunner): Promise<EventEnvelope[]> {
    const { streamId, events, expectedVersion, inline } = request;
    if (events.length === 0) return [];
    if (connection && inline)
      throw new Error('an append on a held connection takes SQL inline projections only');
    const [sql, parameters] = appendStatement(request);
    try {
      // One statement moves the stream, inserts the events and their outbox rows: atomic on its own,
      // so an append without inline projections is one round trip. With them, one transaction
      // (PostgreSQL's default READ COMMITTED; naming it would cost a SET TRANSACTION round trip).
      const rows: EventRow[] = inline
        ? await this.db.transaction(async (tx) => {
            const stored: EventRow[] = await tx.query(sql, parameters);
            if (stored.length > 0) await inline(tx, stored.map(toEnvelope));
            return stored;
          })
        : connection
          ? await queryPrepared<EventRow>(connection, sql, parameters)
          : await this.db.query(sql, parameters);
      // The stream did not move (its version was not the one expected): nothing was written.
      if (rows.length === 0) throw new ConcurrencyError(streamId, expectedVersion);
      return rows.map(toEnvelope);
    } catch (error) {
      // Two writers that saw the same version both try to insert (stream_id, version): one loses.
      if (isUniqueViolation(error)) throw new ConcurrencyError(streamId, expectedVersion);
      throw error;
    }
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

/**
 * The append as one statement. `moved` advances the stream as the expected version allows and
 * returns its new version, or no row (a version clash, or a stream that already exists when a new
 * one was expected); the events are numbered from it, so without a row nothing is inserted.
 */
function appendStatement(request: AppendRequest): [string, unknown[]] {
  const { streamId, streamType, expectedVersion, events, context } = request;
  const moved =
    expectedVersion === 0
      ? `INSERT INTO streams (id, type, tenant_id, version) VALUES ($1, $13, $2, $12)
         ON CONFLICT (id) DO NOTHING RETURNING version`
      : expectedVersion === 'any'
        ? `INSERT INTO streams (id, type, tenant_id, version) VALUES ($1, $13, $2, $12)
           ON CONFLICT (id) DO UPDATE SET version = streams.version + $12, updated_at = now()
           RETURNING version`
        : `UPDATE streams SET version = version + $12, updated_at = now()
           WHERE id = $1 AND version = $13 RETURNING version`;
  const sql = `
    WITH moved AS (${moved}),
    stored AS (
      INSERT INTO events (id, stream_id, version, type, schema_version, tenant_id, actor, causation_id,
        correlation_id, data, occurred_at)
      SELECT e.id, $1, moved.version - $12 + e.ordinal::int, e.type, e.schema_version, $2, $3, $4, $5,
        e.data, coalesce(e.occurred_at, $6)
      FROM moved,
        unnest($7::uuid[], $8::text[], $9::int[], $10::jsonb[], $11::timestamptz[])
          WITH ORDINALITY AS e(id, type, schema_version, data, occurred_at, ordinal)
      ORDER BY e.ordinal
      RETURNING ${eventColumns()}),
    queued AS (INSERT INTO outbox (event_seq) SELECT seq FROM stored ORDER BY seq)
    SELECT * FROM stored ORDER BY version`;
  const parameters: unknown[] = [
    streamId,
    context.tenantId,
    JSON.stringify(context.actor),
    context.causationId ?? null,
    context.correlationId ?? null,
    context.occurredAt,
    events.map(() => randomUUID()),
    events.map((e) => e.type),
    events.map((e) => e.schemaVersion ?? 1),
    events.map((e) => JSON.stringify(e.data)),
    events.map((e) => e.occurredAt ?? null),
    events.length,
    // $13: the stream's type where the statement may create it, else the version it must have.
    typeof expectedVersion === 'number' && expectedVersion !== 0 ? expectedVersion : streamType,
  ];
  return [sql, parameters];
}
