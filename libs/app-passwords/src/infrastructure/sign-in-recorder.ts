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
 * Nothing else is written here: last use (B7) and the activity counts are the sign-in-activity
 * projection's, fed from Kafka, so a group commit is the append alone.
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
    };
  }

  async onModuleDestroy(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining);
    await Promise.all([...this.connections.keys()].map((lane) => this.dropConnection(lane)));
  }
}
