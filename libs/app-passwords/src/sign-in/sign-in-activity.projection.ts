import { Logger } from '@nestjs/common';
import type { EventEnvelope } from '@latchkey/event-store';
import type { KafkaProjection } from '@latchkey/messaging';
import type { EntityManager } from 'typeorm';
import { isUuid } from '../domain';
import { SIGN_IN_EVENT_TYPES } from '../infrastructure/sign-in-recorder';

interface SignInData {
  username: string;
  reason: string | null;
  attemptedAt: string;
  appPasswordId?: string | null;
}

const logger = new Logger('projection:sign-in-activity');

const isSignInData = (data: unknown): data is SignInData => {
  const candidate = data as Partial<SignInData> | null;
  return (
    typeof candidate?.username === 'string' &&
    typeof candidate.attemptedAt === 'string' &&
    !Number.isNaN(Date.parse(candidate.attemptedAt)) &&
    (candidate.reason === undefined || candidate.reason === null || typeof candidate.reason === 'string')
  );
};

/**
 * Adds `rows` (tenant_id, username, day, allowed, refused, refused_by_reason, last_attempt_at; one
 * per key, in key order so that two writers lock shared rows in one order) to the counts already
 * there: sums, per-reason sums key by key, the latest attempt. Used by the Kafka consumer and by
 * the replay's set-based rebuild, so both count alike.
 */
export const upsertSignInActivity = (rows: string): string => `
  INSERT INTO sign_in_activity AS a (tenant_id, username, day, allowed, refused, refused_by_reason, last_attempt_at)
  ${rows}
  ON CONFLICT (tenant_id, username, day) DO UPDATE SET
    allowed = a.allowed + EXCLUDED.allowed,
    refused = a.refused + EXCLUDED.refused,
    refused_by_reason = coalesce(
      (SELECT jsonb_object_agg(reason, coalesce((a.refused_by_reason ->> reason)::int, 0)
                                       + coalesce((EXCLUDED.refused_by_reason ->> reason)::int, 0))
       FROM (SELECT jsonb_object_keys(a.refused_by_reason)
             UNION SELECT jsonb_object_keys(EXCLUDED.refused_by_reason)) AS reasons(reason)),
      '{}'::jsonb),
    last_attempt_at = GREATEST(a.last_attempt_at, EXCLUDED.last_attempt_at)`;

/**
 * B7: last use per app password, from the successes in `source` (rows with the events table's
 * `type`, `data` and `seq`: a consumed batch, or a replay's staged one), in one statement: the newest
 * attempt's time, IP and protocol (on equal instants the later event wins), and the count. Only app
 * passwords the credentials table holds are counted (the usage row's foreign key). Rows in key order:
 * two writers upserting the same credentials lock them in one order, never a deadlock.
 */
export const recordLastUse = (source: string): string => `
  INSERT INTO credential_usage AS u (app_password_id, last_used_at, last_ip, last_protocol, uses)
  SELECT DISTINCT ON (app_password_id) app_password_id, attempted_at, client_ip, protocol,
         count(*) OVER (PARTITION BY app_password_id)
  FROM (SELECT (data ->> 'appPasswordId')::uuid AS app_password_id,
               (data ->> 'attemptedAt')::timestamptz AS attempted_at,
               data ->> 'clientIp' AS client_ip, data ->> 'protocol' AS protocol, seq
        FROM ${source}
        WHERE type = '${SIGN_IN_EVENT_TYPES.allowed}' AND data ->> 'appPasswordId' IS NOT NULL) AS successes
  WHERE EXISTS (SELECT 1 FROM credentials c WHERE c.app_password_id = successes.app_password_id)
  ORDER BY app_password_id, attempted_at DESC, seq DESC
  ON CONFLICT (app_password_id) DO UPDATE SET
    uses = u.uses + EXCLUDED.uses,
    last_used_at = GREATEST(u.last_used_at, EXCLUDED.last_used_at),
    last_ip = CASE WHEN EXCLUDED.last_used_at >= u.last_used_at THEN EXCLUDED.last_ip ELSE u.last_ip END,
    last_protocol = CASE WHEN EXCLUDED.last_used_at >= u.last_used_at
                         THEN EXCLUDED.last_protocol ELSE u.last_protocol END`;

const RECORD_LAST_USE = recordLastUse(
  `(SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bigint[]) AS e(type, data, seq)) AS consumed`,
);

type SignInRecord = EventEnvelope<string, SignInData>;

const isReadable = (event: EventEnvelope): event is SignInRecord =>
  isSignInData(event.data) && event.tenantId !== null && event.tenantId !== undefined;

/**
 * Sign-in records a rebuild can read; the others are logged and skipped, as the live model has set
 * them aside (signInActivityProjection), so that the rebuilt model lacks what the live one lacks.
 */
export function readableSignIns(events: readonly EventEnvelope[]): SignInRecord[] {
  const unreadable = unreadableIds(events);
  if (unreadable.length > 0)
    logger.warn(
      `skipped ${unreadable.length} event(s) that are not readable sign-in records: ${unreadable.join(', ')}`,
    );
  return events.filter(isReadable);
}

const unreadableIds = (events: readonly EventEnvelope[]): string[] =>
  events.filter((event) => !isReadable(event)).map((event) => event.id);

/** B7: adds the successes among `events` (readable sign-in records) to credential_usage. */
async function recordLastUses(tx: EntityManager, events: readonly SignInRecord[]): Promise<void> {
  const successes = events.filter(
    (event) => event.type === SIGN_IN_EVENT_TYPES.allowed && isUuid(event.data.appPasswordId ?? ''),
  );
  if (successes.length === 0) return;
  await tx.query(RECORD_LAST_USE, [
    successes.map((event) => event.type),
    successes.map((event) => JSON.stringify(event.data)),
    successes.map((event) => event.seq.toString()),
  ]);
}

/** R9: adds `events` (readable sign-in records) to the counts per username and day. */
export async function countSignIns(tx: EntityManager, events: readonly SignInRecord[]): Promise<void> {
  if (events.length === 0) return;
  const days = new Map<string, DayCount>();
  for (const event of events) {
    const data = event.data;
    const day = data.attemptedAt.slice(0, 10); // attemptedAt is an ISO instant in UTC
    const key = JSON.stringify([event.tenantId, data.username, day]);
    const count = days.get(key) ?? {
      tenantId: event.tenantId!,
      username: data.username,
      day,
      allowed: 0,
      refused: 0,
      byReason: {},
      lastAttemptAt: data.attemptedAt,
    };
    if (event.type === SIGN_IN_EVENT_TYPES.allowed) count.allowed++;
    else {
      count.refused++;
      if (data.reason) count.byReason[data.reason] = (count.byReason[data.reason] ?? 0) + 1;
    }
    if (data.attemptedAt > count.lastAttemptAt) count.lastAttemptAt = data.attemptedAt;
    days.set(key, count);
  }
  const rows = [...days.values()];
  await tx.query(
    upsertSignInActivity(
      `SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::int[], $5::int[], $6::jsonb[],
                              $7::timestamptz[])
         ORDER BY 1, 2, 3`,
    ),
    [
      rows.map((r) => r.tenantId),
      rows.map((r) => r.username),
      rows.map((r) => r.day),
      rows.map((r) => r.allowed),
      rows.map((r) => r.refused),
      rows.map((r) => JSON.stringify(r.byReason)),
      rows.map((r) => r.lastAttemptAt),
    ],
  );
}

/** R9 and B7: counts `events` (readable sign-in records) and moves last use, in the caller's transaction. */
export async function applySignIns(tx: EntityManager, events: readonly SignInRecord[]): Promise<void> {
  await countSignIns(tx, events);
  await recordLastUses(tx, events);
}

/**
 * Legacy sign-in attempts per username and day (R9: on premises nothing logs app-password use), and
 * each app password's last use (B7), in one transaction under one set of positions: the two tables
 * always count the same events (a replay rebuilds them together). Fed from Kafka, off the
 * verification path: neither need be current the instant a sign-in is answered, and a verification
 * writes nothing but its own event. A batch holding an event that is not a readable sign-in record
 * (a hand-written row, a schema this code does not know) fails, so that the runner applies its events
 * one by one and sets that one aside in projection_dead_letters, where an operator sees it.
 */
export const signInActivityProjection: KafkaProjection = {
  name: 'sign-in-activity',
  handles: (type: string) => type === SIGN_IN_EVENT_TYPES.allowed || type === SIGN_IN_EVENT_TYPES.refused,
  async apply(tx: EntityManager, events: readonly EventEnvelope[]): Promise<void> {
    const unreadable = unreadableIds(events);
    if (unreadable.length > 0) throw new Error(`not a readable sign-in record: ${unreadable.join(', ')}`);
    await applySignIns(tx, events as readonly SignInRecord[]);
  },
};

interface DayCount {
  tenantId: string;
  username: string;
  day: string;
  allowed: number;
  refused: number;
  byReason: Record<string, number>;
  lastAttemptAt: string;
}
