import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/** Every column of an event that states a fact, as the chain reads it from the events table. */
export interface ChainedEvent {
  /** Global position, as PostgreSQL writes the bigint. */
  seq: string;
  id: string;
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  tenantId: string | null;
  actor: unknown;
  causationId: string | null;
  correlationId: string | null;
  data: unknown;
  /** UTC, microseconds (`2025-03-03T14:02:00.123456Z`): PostgreSQL's full precision, not a JS Date's. */
  occurredAt: string;
  recordedAt: string;
}

/** The link before the first event of a chain. */
export const GENESIS_LINK = Buffer.alloc(32);

// Versioned, so a future change of the serialisation cannot be confused with tampering.
const FORMAT = 'latchkey.event-chain/v1';

/** The canonical serialisation of an event: a JSON array in a fixed column order. */
export function canonicalEvent(event: ChainedEvent): string {
  return canonicalJson([
    FORMAT,
    event.seq,
    event.id,
    event.streamId,
    event.version,
    event.type,
    event.schemaVersion,
    event.tenantId,
    event.actor,
    event.causationId,
    event.correlationId,
    event.data,
    event.occurredAt,
    event.recordedAt,
  ]);
}

export function eventDigest(event: ChainedEvent): Buffer {
  return createHash('sha256').update(canonicalEvent(event), 'utf8').digest();
}

/** link(n) = SHA-256(link(n-1) ‖ SHA-256(canonical event n)). Both inputs are 32 bytes: no ambiguity. */
export function chainLink(previous: Buffer, digest: Buffer): Buffer {
  if (previous.length !== 32 || digest.length !== 32) throw new RangeError('links and digests are 32 bytes');
  return createHash('sha256').update(previous).update(digest).digest();
}

/**
 * The events columns as ChainedEvent wants them. Timestamps are formatted by PostgreSQL in UTC with
 * microseconds, so neither the session's time zone nor JavaScript's millisecond Date can hide a change.
 */
export const CHAINED_EVENT_COLUMNS = `e.seq::text AS seq, e.id, e.stream_id, e.version, e.type,
  e.schema_version, e.tenant_id, e.actor, e.causation_id, e.correlation_id, e.data,
  to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at`;

export interface ChainedEventRow {
  seq: string;
  id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  tenant_id: string | null;
  actor: unknown;
  causation_id: string | null;
  correlation_id: string | null;
  data: unknown;
  occurred_at: string;
  recorded_at: string;
}

export function toChainedEvent(row: ChainedEventRow): ChainedEvent {
  return {
    seq: row.seq,
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
