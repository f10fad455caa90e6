import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { PostgresEventStore, type AppendRequest } from '@latchkey/event-store';
import { DataSource, type QueryRunner } from 'typeorm';
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
export const SIGN_IN_LANES = 2;
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
 * Last use (B7) rides on the same statement, so verification itself never writes per request.
 */
@Injectable()
export class SignInRecorder implements OnModuleDestroy {
  private readonly logger = new Logger(SignInRecorder.name);
  private readonly queue: Pending[] = [];
  private readonly idleLanes = Array.from({ length: SIGN_IN_LANES }, (_, lane) => lane);
  private readonly draining = new Set<Promise<void>>();
  /** Each lane's own connection: its commits never wait in the pool's queue behind lookups. */
  private readonly connections = new Map<number, QueryRunner>();

  constructor(
    private readonly store: PostgresEventStore,
    private readonly db: DataSource,
  ) {}

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
      await this.store.append(this.request(tenantId, lane, pendings), await this.connection(lane));
      pendings.forEach((p) => p.resolve());
    } catch (error) {
      this.logger.error(`could not record ${pendings.length} sign-in attempts: ${String(error)}`);
      // The connection may be the cause: the next commit of this lane takes a fresh one.
      await this.dropConnection(lane);
      pendings.forEach((p) => p.reject(error));
    }
  }

  private async connection(lane: number): Promise<QueryRunner> {
    let connection = this.connections.get(lane);
    if (!connection) {
      connection = this.db.createQueryRunner();
      this.connections.set(lane, connection);
      await connection.connect();
    }
    return connection;
  }

  private async dropConnection(lane: number): Promise<void> {
    const connection = this.connections.get(lane);
    this.connections.delete(lane);
    await connection?.release().catch(() => undefined);
  }

  private request(tenantId: string, lane: number, pendings: Pending[]): AppendRequest {
    return {
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
      inlineSql: [RECORD_LAST_USE],
    };
  }

  async onModuleDestroy(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining);
    await Promise.all([...this.connections.keys()].map((lane) => this.dropConnection(lane)));
  }
}

/**
 * B7: last use per app password, from the successes in `source` (rows of the events table: the
 * append's `stored`, or a replay's batch), in one statement: the newest attempt's time, IP and
 * protocol (on equal instants the later event wins, as a later append does), and the count. Rows in
 * key order: two lanes upserting the same credentials lock them in one order, never a deadlock.
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
  ORDER BY app_password_id, attempted_at DESC, seq DESC
  ON CONFLICT (app_password_id) DO UPDATE SET
    uses = u.uses + EXCLUDED.uses,
    last_used_at = GREATEST(u.last_used_at, EXCLUDED.last_used_at),
    last_ip = CASE WHEN EXCLUDED.last_used_at >= u.last_used_at THEN EXCLUDED.last_ip ELSE u.last_ip END,
    last_protocol = CASE WHEN EXCLUDED.last_used_at >= u.last_used_at
                         THEN EXCLUDED.last_protocol ELSE u.last_protocol END`;

const RECORD_LAST_USE = recordLastUse('stored');
