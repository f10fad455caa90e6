import { toPublishableEvent } from '@latchkey/app-passwords';
import type { Actor, EventRow } from '@latchkey/event-store';

/** An event as auditors receive it (JSON and NDJSON lines). The tenant is the caller's own, so absent. */
export interface AuditEvent {
  /** events.seq, a bigint: a string so that no JSON reader rounds it. */
  seq: string;
  id: string;
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  actor: Actor;
  causationId: string | null;
  correlationId: string | null;
  data: unknown;
  occurredAt: string;
  recordedAt: string;
}

/**
 * The same redaction as the outbox relay applies before Kafka (PRODUCT §5): an AppPasswordCreated
 * loses its verifier, the only secret-derived value an event holds. Auditors need to know that an app
 * password was created, never anything that helps guess it.
 */
export function redactedData(type: string, data: unknown): unknown {
  if (type !== 'AppPasswordCreated') return data;
  // A malformed row is passed on as stored only when it cannot hold a verifier member.
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  return toPublishableEvent({ type, data } as Parameters<typeof toPublishableEvent>[0]).data;
}

export function toAuditEvent(row: EventRow): AuditEvent {
  return {
    seq: String(row.seq),
    id: row.id,
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    schemaVersion: row.schema_version,
    actor: row.actor,
    causationId: row.causation_id,
    correlationId: row.correlation_id,
    data: redactedData(row.type, row.data),
    occurredAt: new Date(row.occurred_at).toISOString(),
    recordedAt: new Date(row.recorded_at).toISOString(),
  };
}

/** Events as NDJSON: one JSON document per line, each line ended by `\n`. */
export const toNdjson = (events: readonly AuditEvent[]): string =>
  events.map((event) => JSON.stringify(event) + '\n').join('');

/**
 * The last line of an export that failed after its first bytes were sent (the status line was 200
 * and cannot change). No event has a top-level `error` member, so a reader tells them apart; an
 * export without this line ended complete.
 */
export const exportErrorLine = (requestId: string | undefined): string =>
  JSON.stringify({
    error: {
      type: 'https://latchkey.dev/problems/export-interrupted',
      title: 'Export interrupted',
      detail: 'The export failed after it started; the lines above are complete events, but not all of them.',
      ...(requestId ? { requestId } : {}),
    },
  }) + '\n';
