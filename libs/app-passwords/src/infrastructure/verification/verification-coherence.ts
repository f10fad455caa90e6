import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ProblemError } from '@latchkey/problems';
import { describeFailure, RepeatingTask } from '@latchkey/runtime';
import { DataSource } from 'typeorm';
import {
  ACK_CHANNEL,
  INVALIDATION_CHANNEL,
  parseInvalidation,
  type Acknowledgement,
  type Invalidation,
} from './invalidations';
import type { VerificationReplica } from './verification-replica';

export interface CoherenceOptions {
  /** How long a lease lasts in PostgreSQL. */
  leaseMs: number;
  /** How often it is renewed. */
  renewEveryMs: number;
  /**
   * How much sooner than `leaseMs` after sending a renewal the replica stops answering from memory:
   * covers the two clocks' rates drifting apart (durations only: no clock is compared with another).
   */
  marginMs: number;
  /** How long a command waits for the acknowledgements of its change before it answers 503. */
  confirmTimeoutMs: number;
  /** Wait before connecting again after the listening connection failed. */
  reconnectMs: number;
  /** How long an acknowledgement is remembered (a command waits at most confirmTimeoutMs for it). */
  ackKeptMs: number;
  /** How long a replica that registered around a change's commit is waited for at most. */
  startupGraceMs: number;
}

const DEFAULT_OPTIONS: CoherenceOptions = {
  leaseMs: 3_000,
  renewEveryMs: 750,
  marginMs: 600,
  confirmTimeoutMs: 10_000,
  reconnectMs: 500,
  ackKeptMs: 60_000,
  startupGraceMs: 1_000,
};

/** The part of node-postgres' Client used here (the `pg` module TypeORM itself loaded). */
interface Client {
  connect(): Promise<void>;
  end(): Promise<void>;
  query(sql: string, parameters?: unknown[]): Promise<{ rowCount: number | null }>;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'end', listener: () => void): void;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): void;
}

type ClientConstructor = new (config: Record<string, unknown>) => Client;

/** Acknowledgements are kept this long for a waiter that starts after they arrived. */
/**
 * Keeps in-memory verification coherent across API instances: the lease + invalidation-
 * acknowledgement protocol.
 *
 * - Every change that verification reads announces what it made stale with NOTIFY in its own
 *   transaction (`announce`), so the announcement exists if and only if the change committed.
 * - Each process listens on one connection of its own. A process serving verifications from memory
 *   (`serve`) holds a lease in `verification_replicas`, renewed on that same connection: if the
 *   connection breaks, the renewals stop with it, and the replica stops answering from memory
 *   `marginMs` before its lease could have ended, measured from when it sent the renewal.
 * - A replica applies each announcement, then NOTIFYs its acknowledgement.
 * - After its commit, the command (`confirm`) reads who holds a lease and waits until each has
 *   acknowledged, or its lease has ended in PostgreSQL's time. Only then does the command return, so
 *   a verification that starts after that, on any instance, cannot be answered from stale memory.
 * - A replica whose renewal finds its lease already gone forgets everything before taking a new one:
 *   a command may have stopped waiting for it.
 */
@Injectable()
export class VerificationCoherence implements OnModuleInit, OnModuleDestroy {
  /**
   * This replica's identity in `verification_replicas`: a new one whenever memory was forgotten, so
   * that a command still waiting for the old one's acknowledgement stops at the old lease's end.
   */
  private instanceId = randomUUID();
  /** The listening connection's application_name, to find it in pg_stat_activity. */
  readonly connectionName = `latchkey-verification-${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger(VerificationCoherence.name);
  private readonly options: CoherenceOptions;
  private readonly acks = new Map<string, { instances: Set<string>; at: number }>();
  private nextAckSweep = 0;
  private readonly ackArrived = new EventEmitter();
  private client?: Client;
  private connected = false;
  private replica?: VerificationReplica;
  /** Renews the lease, one renewal at a time, on the listening connection. */
  private leases?: RepeatingTask;
  private reconnectTimer?: NodeJS.Timeout;
  private stopped = false;
  private pendingAcks: string[] = [];

  constructor(
    private readonly db: DataSource,
    options: Partial<CoherenceOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.ackArrived.setMaxListeners(0);
  }

  async onModuleInit(): Promise<void> {
    await this.connect().catch(() => this.scheduleReconnect());
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.leases?.stop();
    this.replica?.reset();
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    // Let commands stop waiting for this instance at once instead of at its lease's end.
    if (this.replica && this.connected)
      await client
        .query(`DELETE FROM verification_replicas WHERE instance_id = $1`, [this.instanceId])
        .catch(() => undefined);
    await client.end().catch(() => undefined);
  }

  /** The identity of the lease held now (it changes whenever memory was forgotten). */
  get leaseId(): string {
    return this.instanceId;
  }

  /** This process answers verifications from `replica` while it holds a lease. */
  async serve(replica: VerificationReplica): Promise<void> {
    this.replica = replica;
    if (this.client && this.connected) await this.startServing(this.client);
  }

  /**
   * SQL to run inside the changing transaction: announces the invalidations at its commit (one
   * statement for any number of them) and answers PostgreSQL's clock just before that commit, for
   * `confirm`.
   */
  static announcement(invalidations: readonly Invalidation[]): [string, unknown[]] {
    return [
      `SELECT clock_timestamp() AS at,
         (SELECT count(pg_notify($1, payload)) FROM unnest($2::text[]) AS payload) AS announced`,
      [INVALIDATION_CHANNEL, invalidations.map((invalidation) => JSON.stringify(invalidation))],
    ];
  }

  /**
   * Returns once every replica that held a lease after the change committed has acknowledged
   * `tokens` or lost its lease. Throws a 503 problem (`change-unconfirmed`; the change stays
   * committed) if that cannot be established within `confirmTimeoutMs`.
   *
   * `announcedAt` (PostgreSQL's clock inside the changing transaction) tells the replicas that must
   * have heard the announcement (registered before it: they listened before they registered) from
   * those that registered around the commit. One of the latter either heard it, and acknowledges
   * within milliseconds, or began listening after the commit, and then read everything it holds
   * after the commit too: it is waited for only briefly, so that an instance starting up cannot
   * hold a command for a whole lease.
   */
  async confirm(tokens: readonly string[], announcedAt?: Date): Promise<void> {
    if (tokens.length === 0) return;
    const deadline = performance.now() + this.options.confirmTimeoutMs;
    // Acknowledgements arrive on the listening connection: it must be up to hear them.
    while (!this.connected) {
      if (performance.now() >= deadline) throw unconfirmed();
      await this.nextAck(Math.min(100, deadline - performance.now()));
    }
    const holders = await this.leaseholders(announcedAt);
    for (;;) {
      const waitingOn = [...holders.keys()].filter((id) => tokens.some((token) => !this.acked(token, id)));
      if (waitingOn.length === 0) return;
      const now = performance.now();
      if (now >= deadline) {
        this.logger.warn(
          `a change was not confirmed within ${this.options.confirmTimeoutMs} ms by verification instance(s) ${waitingOn.join(', ')} (see verification_replicas): they keep renewing their lease without acknowledging`,
        );
        throw unconfirmed();
      }
      const soonestEnd = Math.min(...waitingOn.map((id) => holders.get(id)!.until));
      if (now >= soonestEnd) {
        const over = waitingOn.filter((id) => holders.get(id)!.until <= now);
        // Registered around the commit and still silent: it began listening after the commit.
        for (const id of over) if (!holders.get(id)!.heard) holders.delete(id);
        // A lease has run out by our reckoning: ask PostgreSQL whether it was renewed meanwhile.
        const expired = over.filter((id) => holders.has(id));
        if (expired.length > 0) {
          const renewed = await this.leaseholders(announcedAt, expired);
          for (const id of expired) {
            const lease = renewed.get(id);
            if (lease) holders.set(id, { ...lease, heard: true });
            else holders.delete(id);
          }
        }
        continue;
      }
      await this.nextAck(Math.min(soonestEnd, deadline) - now);
    }
  }

  /**
   * Returns once every replica has applied every change committed before this call, as `confirm`
   * does for one change: announcements reach each replica in commit order, so its acknowledgement
   * of an empty one, announced now, comes after it applied (and its verifications in flight
   * answered on) all the earlier ones. For a command that decided nothing because the change it
   * asks for was just made, by a command that may still be waiting for the replicas.
   */
  async barrier(tenantId: string | null): Promise<void> {
    // It makes nothing stale: the tenant only routes it (and no replica holds the nil one).
    const invalidation: Invalidation = {
      token: randomUUID(),
      tenantId: tenantId ?? '00000000-0000-0000-0000-000000000000',
    };
    const [announced]: { at: Date }[] = await this.db.query(
      ...VerificationCoherence.announcement([invalidation]),
    );
    await this.confirm([invalidation.token], announced.at);
  }

  /** Applies invalidations to this process's memory now, ahead of their announcement's arrival. */
  applyHere(invalidations: readonly Invalidation[]): void {
    for (const invalidation of invalidations) this.replica?.invalidate(invalidation);
  }

  /**
   * Instances holding a lease now, with when (performance.now() scale, never early) their lease
   * ends, or, for one registered after `announcedAt`, how long it is waited for at most.
   */
  private async leaseholders(
    announcedAt: Date | undefined,
    among?: string[],
  ): Promise<Map<string, { until: number; heard: boolean }>> {
    const rows: { instance_id: string; remaining_ms: number; heard: boolean }[] = await this.db.query(
      `SELECT instance_id, extract(epoch FROM lease_expires_at - now()) * 1000 AS remaining_ms,
         ($2::timestamptz IS NULL OR registered_at < $2) AS heard
       FROM verification_replicas
       WHERE lease_expires_at > now() AND ($1::uuid[] IS NULL OR instance_id = ANY($1))`,
      [among ?? null, announcedAt ?? null],
    );
    const received = performance.now();
    return new Map(
      rows.map((row) => {
        const leaseEnd = received + Number(row.remaining_ms);
        const until = row.heard ? leaseEnd : Math.min(leaseEnd, received + this.options.startupGraceMs);
        return [row.instance_id, { until, heard: row.heard }];
      }),
    );
  }

  private acked(token: string, instanceId: string): boolean {
    return this.acks.get(token)?.instances.has(instanceId) ?? false;
  }

  private nextAck(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.ackArrived.off('ack', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, timeoutMs));
      this.ackArrived.on('ack', done);
    });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const options = this.db.options as {
      host?: string;
      port?: number;
      username?: string;
      password?: unknown;
      database?: string;
    };
    const { Client } = (this.db.driver as unknown as { postgres: { Client: ClientConstructor } }).postgres;
    const client = new Client({
      host: options.host,
      port: options.port,
      user: options.username,
      password: typeof options.password === 'string' ? options.password : undefined,
      database: options.database,
      application_name: this.connectionName,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === ACK_CHANNEL) this.receiveAck(message.payload ?? '');
      else if (message.channel === INVALIDATION_CHANNEL) this.receiveInvalidation(message.payload ?? '');
    });
    await client.connect();
    if (this.stopped) return void (await client.end().catch(() => undefined));
    this.client = client;
    try {
      await client.query(`LISTEN ${ACK_CHANNEL}`);
      this.connected = true;
      this.ackArrived.emit('ack');
      if (this.replica) await this.startServing(client);
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  /** LISTEN first, then the lease: no announcement committed after the lease was taken is missed. */
  private async startServing(client: Client): Promise<void> {
    await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    await this.register(client);
    await this.leases?.stop();
    this.leases = new RepeatingTask(() => this.renew(client), this.options.renewEveryMs);
    this.leases.start();
  }

  /** Takes a lease under a new identity (memory is empty: it has just started or was forgotten). */
  private async register(client: Client): Promise<void> {
    const previous = this.instanceId;
    this.instanceId = randomUUID();
    const sent = performance.now();
    await client.query(
      `DELETE FROM verification_replicas
       WHERE instance_id = $1 OR lease_expires_at < now() - interval '1 day'`,
      [previous],
    );
    await client.query(
      `INSERT INTO verification_replicas (instance_id, host, pid, lease_expires_at)
       VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
       ON CONFLICT (instance_id) DO UPDATE SET lease_expires_at = excluded.lease_expires_at, registered_at = now()`,
      [this.instanceId, hostname(), process.pid, this.options.leaseMs],
    );
    // A command that committed around this registration waits for it only `startupGraceMs` (see
    // confirm): memory answers only after that, by when any announcement heard has been applied.
    this.replica?.holdUntil(
      sent + this.options.leaseMs - this.options.marginMs,
      performance.now() + this.options.startupGraceMs + this.options.marginMs,
    );
  }

  private async renew(client: Client): Promise<void> {
    if (client !== this.client || !this.replica) return;
    try {
      const sent = performance.now();
      const result = await client.query(
        `UPDATE verification_replicas SET lease_expires_at = now() + $2 * interval '1 millisecond'
         WHERE instance_id = $1 AND lease_expires_at > now()`,
        [this.instanceId, this.options.leaseMs],
      );
      if (result.rowCount === 1) {
        this.replica.holdUntil(sent + this.options.leaseMs - this.options.marginMs);
      } else {
        // The lease ran out (a long pause): commands may have stopped waiting for this instance.
        this.logger.warn('verification lease had run out: memory forgotten, lease taken again');
        this.replica.reset();
        await this.register(client);
      }
    } catch (error) {
      // The connection's own error handler resets and reconnects; memory stops at the lease's end anyway.
      this.logger.warn(`verification lease not renewed: ${describeFailure(error)}`);
    }
  }

  private receiveInvalidation(payload: string): void {
    if (!this.replica) return;
    const invalidation = parseInvalidation(payload);
    this.replica.invalidate(invalidation);
    if ('quiet' in invalidation && invalidation.quiet) return;
    // Verifications that read before this arrived answer first: one still recording its attempt
    // must not answer "allowed" after the change's command has returned.
    const settled = this.replica.settled();
    if (settled) void settled.then(() => this.acknowledge(invalidation.token));
    else this.acknowledge(invalidation.token);
  }

  private acknowledge(token: string): void {
    this.pendingAcks.push(token);
    // Everything that arrived in the same read of the socket is acknowledged in one NOTIFY.
    if (this.pendingAcks.length === 1) setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    const client = this.client;
    const tokens = this.pendingAcks.splice(0);
    if (!client || tokens.length === 0) return;
    const payloads: string[] = [];
    for (let i = 0; i < tokens.length; i += 100) {
      const ack: Acknowledgement = { instanceId: this.instanceId, tokens: tokens.slice(i, i + 100) };
      payloads.push(JSON.stringify(ack));
    }
    client
      .query(`SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload`, [ACK_CHANNEL, payloads])
      .catch((error: unknown) => this.logger.warn(`acknowledgement not sent: ${describeFailure(error)}`));
  }

  private receiveAck(payload: string): void {
    try {
      const ack = JSON.parse(payload) as Acknowledgement;
      const at = performance.now();
      // Every process hears every acknowledgement, those that serve no replica (the sync worker) too:
      // forget the old ones as new ones arrive, or the map grows with every change ever made.
      if (at >= this.nextAckSweep) this.sweepAcks(at);
      for (const token of ack.tokens) {
        let entry = this.acks.get(token);
        if (!entry) this.acks.set(token, (entry = { instances: new Set(), at }));
        entry.instances.add(ack.instanceId);
      }
      this.ackArrived.emit('ack');
    } catch {
      this.logger.warn('an unreadable verification acknowledgement was ignored');
    }
  }

  private sweepAcks(now: number): void {
    this.nextAckSweep = now + this.options.ackKeptMs / 4;
    const oldest = now - this.options.ackKeptMs;
    for (const [token, entry] of this.acks) if (entry.at < oldest) this.acks.delete(token);
  }

  /** How many changes' acknowledgements are remembered (bounded by ackKeptMs; for tests). */
  get rememberedAcks(): number {
    return this.acks.size;
  }

  private lost(client: Client, error?: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.connected = false;
    void this.leases?.stop();
    // Announcements may be missed from here on: nothing in memory can be trusted.
    this.replica?.reset();
    this.pendingAcks = [];
    if (!this.stopped)
      this.logger.warn(
        `verification listener lost${error ? `: ${describeFailure(error)}` : ''}; reconnecting`,
      );
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((error: unknown) => {
        this.logger.warn(`verification listener not connected: ${describeFailure(error)}`);
        this.scheduleReconnect();
      });
    }, this.options.reconnectMs);
    this.reconnectTimer.unref();
  }
}

const unconfirmed = () =>
  new ProblemError(503, 'change-unconfirmed', 'Change not yet confirmed by every API instance', {
    detail:
      'The change is saved, and holds on every API instance that confirmed it. One instance did not confirm it in time: until it does, or its lease ends, a verification it answers may still succeed. Repeating the request changes nothing more; the operators are told which instance it was.',
  });
