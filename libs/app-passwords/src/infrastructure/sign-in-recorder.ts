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
export const signInStreamId = (tenantId: string) => `sign-ins-${tenantId}`;

interface Pending {
  record: SignInAttemptRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

/**
 * Records sign-in attempts with group commit: an attempt's promise resolves once its event is
 * durable, but attempts that arrive while a commit is in flight share the next one. Under load a
 * verification then costs a fraction of a transaction, while none is answered before it is
 * recorded (R9: on premises nothing logs app-password use, so this is the only record).
 * Last use (B7) rides on the same transaction, so verification itself never writes per request.
 */
@Injectable()
export class SignInRecorder implements OnModuleDestroy {
  private readonly logger = new Logger(SignInRecorder.name);
  private queue: Pending[] = [];
  private flushing?: Promise<void>;

  constructor(private readonly store: PostgresEventStore) {}

  record(record: SignInAttemptRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const byTenant = new Map<string, Pending[]>();
      for (const pending of batch) {
        const list = byTenant.get(pending.record.tenantId) ?? [];
        list.push(pending);
        byTenant.set(pending.record.tenantId, list);
      }
      await Promise.all([...byTenant].map(([tenantId, pendings]) => this.commit(tenantId, pendings)));
    }
  }

  private async commit(tenantId: string, pendings: Pending[]): Promise<void> {
    try {
      await this.store.append({
        streamId: signInStreamId(tenantId),
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
    await this.flushing;
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
  await tx.query(
    `INSERT INTO credential_usage (app_password_id, last_used_at, last_ip, last_protocol, uses)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[])
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
