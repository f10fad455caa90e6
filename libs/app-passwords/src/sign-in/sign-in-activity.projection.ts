import { Logger } from '@nestjs/common';
import type { EventEnvelope } from '@latchkey/event-store';
import type { KafkaProjection } from '@latchkey/messaging';
import type { EntityManager } from 'typeorm';
import { SIGN_IN_EVENT_TYPES } from '../infrastructure/sign-in-recorder';

interface SignInData {
  username: string;
  reason: string | null;
  attemptedAt: string;
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
 * Legacy sign-in attempts per username and day (R9: on premises nothing logs app-password use).
 * Fed from Kafka: it need not be consistent the instant a sign-in is answered.
 */
export const signInActivityProjection: KafkaProjection = {
  name: 'sign-in-activity',
  handles: (type: string) => type === SIGN_IN_EVENT_TYPES.allowed || type === SIGN_IN_EVENT_TYPES.refused,
  async apply(tx: EntityManager, events: readonly EventEnvelope[]): Promise<void> {
    const days = new Map<string, DayCount>();
    const unreadable = events.filter((event) => !isSignInData(event.data) || !event.tenantId);
    // One event that is not a sign-in record (a hand-written row, a future schema) must not stop the
    // read model for good: kafkajs gives up on a consumer whose batch throws what no retry fixes.
    if (unreadable.length > 0)
      logger.warn(
        `skipped ${unreadable.length} event(s) that are not readable sign-in records: ${unreadable
          .map((event) => event.id)
          .join(', ')}`,
      );
    for (const event of events) {
      if (unreadable.includes(event)) continue;
      const data = event.data as SignInData;
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
