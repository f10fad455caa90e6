import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { PostgresEventStore, type EventEnvelope } from '@latchkey/event-store';
import type { EntityManager } from 'typeorm';
import type { RuleId, SignInAction, SignInRefusal } from '../domain';

/** R9: every legacy sign-in attempt, as recorded. Never the presented password. */
export interface SignInAttemptRecord {
  tenantId: string;
  /** As presented (trimmed and bounded): unknown usernames are recorded too. */
  username: string;
  userId: string | null;
  appPasswordId: string | null;
  protocol: string;
  action: SignInAction;
  clientIp: string;
  allowed: boolean;
  reason: SignInRefusal | null;
  rule: RuleId | null;
  attemptedAt: Date;
}

export const SIGN_IN_EVENT_TYPES = {
  allowed: 'LegacySignInSucceeded',
  refused: 'LegacySignInFailed',
} as const;

/**
 * A tenant's attempts are recorded on SIGN_IN_LANES streams, `sign-ins-<tenant>-<lane>`, so that
 * that many group commits can be in flight at once: each stream's version is one row, which a
 * commit holds until it ends. Their order across lanes is the events' global sequence.
 */
export const SIGN_IN_LANES = 4;
export const signInStreamId = (tenantId: string, lane: number) => `sign-ins-${tenantId}-${lane}`;
export const signInStreamIds = (tenantId: string): string[] =>
  Array.from({ length: SIGN_IN_LANES }, (_, lane) => signInStreamId(tenantId, lane));

interface Pending {
  record: SignInAttemptRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

/**
 * Records sign-in attempts with group commit: an attempt's promise resolves once its event is
 * durable, but attempts that arrive while every lane has a commit in flight share the next one.
 * Under load a verification then costs a fraction of a transaction, while none is answered before
 * it is recorded (R9: on premises nothing logs app-password use, so this is the only record).
 * Last use (B7) rides on the same transaction, so verification itself never writes per request.
 */
@Injectable()
export class SignInRecorder implements OnModuleDestroy {
  private readonly logger = new Logger(SignInRecorder.name);
  private readonly queue: Pending[] = [];
  private readonly idleLanes = Array.from({ length: SIGN_IN_LANES }, (_, lane) => lane);
  private readonly draining = new Set<Promise<void>>();

  constructor(private readonly store: PostgresEventStore) {}

  record(record: SignInAttemptRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      const lane = this.idleLanes.pop();
      if (lane === undefined) return; // every lane is busy: the first to finish takes it
      const draining = this.drain(lane).finally(() => this.draining.delete(draining));
      this.draining.add(draining);
    });
  }

  private async drain(lane: number): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const byTenant = new Map<string, Pending[]>();
        for (const pending of batch) {
          const list = byTenant.get(pending.record.tenantId) ?? [];
          list.push(pending);
          byTenant.set(pending.record.tenantId, list);
        }
        await Promise.all([...byTenant].map(([tenantId, pendings]) => this.commit(tenantId, lane, pendings)));
      }
    } finally {
      // In the same turn as the loop's last check: an attempt queued after it finds this lane idle.
      this.idleLanes.push(lane);
    }
  }

  private async commit(tenantId: string, lane: number, pendings: Pending[]): Promise<void> {
    try {
      await this.store.append({
        streamId: signInStreamId(tenantId, lane),
        streamType: 'sign-ins',
        expectedVersion: 'any',
        events: pendings.map(({ record }) => ({
          type: record.allowed ? SIGN_IN_EVENT_TYPES.allowed : SIGN_IN_EVENT_TYPES.refused,
          occurredAt: record.attemptedAt,
          data: {
            username: record.username,
            userId: record.userId,
            appPasswordId: record.appPasswordId,
            protocol: record.protocol,
            action: record.action,
            clientIp: record.clientIp,
            reason: record.reason,
            rule: record.rule,
            attemptedAt: record.attemptedAt.toISOString(),
          },
        })),
        context: { tenantId, actor: { kind: 'gateway' }, occurredAt: pendings[0].record.attemptedAt },
        inline: recordLastUse,
      });
      pendings.forEach((p) => p.resolve());
    } catch (error) {
      this.logger.error(`could not record ${pendings.length} sign-in attempts: ${String(error)}`);
      pendings.forEach((p) => p.reject(error));
    }
  }

  async onModuleDestroy(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining);
  }
}

/** B7: last use per app password, one upsert per batch, newest attempt wins. */
async function recordLastUse(tx: EntityManager, events: readonly EventEnvelope[]): Promise<void> {
  const latest = new Map<string, { at: string; ip: string; protocol: string; uses: number }>();
  for (const event of events) {
    if (event.type !== SIGN_IN_EVENT_TYPES.allowed) continue;
    const data = event.data as {
      appPasswordId: string;
      attemptedAt: string;
      clientIp: string;
      protocol: string;
    };
    const seen = latest.get(data.appPasswordId);
    const uses = (seen?.uses ?? 0) + 1;
    if (!seen || seen.at <= data.attemptedAt) {
      latest.set(data.appPasswordId, {
        at: data.attemptedAt,
        ip: data.clientIp,
        protocol: data.protocol,
        uses,
      });
    } else {
      seen.uses = uses;
    }
  }
  if (latest.size === 0) return;
  const rows = [...latest];
  // In key order: two lanes upserting the same credentials lock them in one order, never a deadlock.
  await tx.query(
    `INSERT INTO credential_usage (app_password_id, last_used_at, last_ip, last_protocol, uses)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[])
       ORDER BY 1
     ON CONFLICT (app_password_id) DO UPDATE SET
       uses = credential_usage.uses + EXCLUDED.uses,
       last_used_at = GREATEST(credential_usage.last_used_at, EXCLUDED.last_used_at),
       last_ip = CASE WHEN EXCLUDED.last_used_at >= credential_usage.last_used_at
                      THEN EXCLUDED.last_ip ELSE credential_usage.last_ip END,
       last_protocol = CASE WHEN EXCLUDED.last_used_at >= credential_usage.last_used_at
                            THEN EXCLUDED.last_protocol ELSE credential_usage.last_protocol END`,
    [
      rows.map(([id]) => id),
      rows.map(([, u]) => u.at),
      rows.map(([, u]) => u.ip),
      rows.map(([, u]) => u.protocol),
      rows.map(([, u]) => u.uses),
    ],
  );
}
