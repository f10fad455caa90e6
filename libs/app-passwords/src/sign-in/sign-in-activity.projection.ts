import type { EventEnvelope } from '@latchkey/event-store';
import type { EntityManager } from 'typeorm';
import { SIGN_IN_EVENT_TYPES } from '../infrastructure/sign-in-recorder';

interface SignInData {
  username: string;
  reason: string | null;
  attemptedAt: string;
}

/**
 * Legacy sign-in attempts per username and day (R9: on premises nothing logs app-password use).
 * Fed from Kafka: it need not be consistent the instant a sign-in is answered.
 */
export const signInActivityProjection = {
  name: 'sign-in-activity',
  handles: (type: string) => type === SIGN_IN_EVENT_TYPES.allowed || type === SIGN_IN_EVENT_TYPES.refused,
  async apply(tx: EntityManager, event: EventEnvelope): Promise<void> {
    const data = event.data as SignInData;
    const allowed = event.type === SIGN_IN_EVENT_TYPES.allowed;
    await tx.query(
      `INSERT INTO sign_in_activity AS a (tenant_id, username, day, allowed, refused, refused_by_reason, last_attempt_at)
       VALUES ($1, $2, ($3::timestamptz AT TIME ZONE 'UTC')::date, $4, $5,
               CASE WHEN $6::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object($6::text, 1) END, $3)
       ON CONFLICT (tenant_id, username, day) DO UPDATE SET
         allowed = a.allowed + EXCLUDED.allowed,
         refused = a.refused + EXCLUDED.refused,
         refused_by_reason = CASE WHEN $6::text IS NULL THEN a.refused_by_reason ELSE
           jsonb_set(a.refused_by_reason, ARRAY[$6::text], to_jsonb(coalesce((a.refused_by_reason ->> $6::text)::int, 0) + 1))
         END,
         last_attempt_at = GREATEST(a.last_attempt_at, EXCLUDED.last_attempt_at)`,
      [
        event.tenantId,
        data.username,
        data.attemptedAt,
        allowed ? 1 : 0,
        allowed ? 0 : 1,
        allowed ? null : data.reason,
      ],
    );
  },
};
