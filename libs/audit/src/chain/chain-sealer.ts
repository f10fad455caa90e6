import { Logger } from '@nestjs/common';
import { AdvisoryLock } from '@latchkey/persistence';
import { describeFailure, PollingLoop } from '@latchkey/runtime';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  CHAINED_EVENT_COLUMNS,
  chainLink,
  eventDigest,
  GENESIS_LINK,
  toChainedEvent,
  type ChainedEventRow,
} from './chain-link';

/** The chain head at one moment: what is published outside the database. */
export interface ChainAnchor {
  seq: string;
  /** Hex of the global link at `seq`. */
  link: string;
  sealedThrough: string;
  anchoredAt: string;
}

/** Where anchors go besides the anchors table and the log (a Kafka topic, in the worker). */
export type AnchorSink = (anchor: ChainAnchor) => Promise<void>;

export interface ChainSealerOptions {
  /** Events per read and per insert statement. */
  batchSize?: number;
  idlePollMs?: number;
  /**
   * How old a settle observation must be before it is trusted (see `observe`): covers a writer that
   * takes a sequence number before its transaction has an id. The service's append never does.
   */
  settleGraceMs?: number;
  /** How often the head is anchored (only when it moved). 0: never, except through anchorNow(). */
  anchorEveryMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface SealResult {
  sealed: number;
  sealedThrough: bigint;
  headSeq: bigint | null;
}

// Any constant shared by every sealer: the holder of this session lock is the one active sealer.
const SEALER_LOCK = 7_406_245_003;
// While a long transaction holds the settle horizon back, observations pile up: keep this many.
const MAX_OBSERVATIONS = 64;

/**
 * "Every sequence number up to `seqBound` was taken by a transaction with an id below `xmax`."
 * Once no transaction below `xmax` is running, every seq up to `seqBound` is settled: its row is
 * committed and visible, or it will never exist (rolled back, or a number skipped).
 */
interface Observation {
  seqBound: bigint;
  xmax: bigint;
  at: number;
}

interface TenantHead {
  seq: string;
  link: Buffer;
}

/**
 * Seals the events table into the hash chain, after the fact, in seq order: the append path stays
 * as it is (no lock, no extra statement), which is what lets thousands of sign-in events a second
 * be appended concurrently. Exactly one sealer is active among all processes: the one holding a
 * PostgreSQL advisory lock on its own connection, on which it also reads and writes, so that if the
 * connection dies with the lock, nothing more is written without it.
 *
 * The gap hazard: sequence numbers are taken at insert and become visible at commit, in any order.
 * Sealing past a number whose transaction is still running would later make that event look
 * inserted by hand. `pg_snapshot_xmin` alone (as readAll does) is not quite enough: a transaction
 * that got its id just before another one's can take its sequence number just after it. So the
 * sealer takes observations (the sequence's last value, then the first unassigned transaction id)
 * and seals up to an observation's bound only once every transaction older than it has ended.
 */
export class ChainSealer {
  private readonly logger = new Logger(ChainSealer.name);
  private readonly options: Required<ChainSealerOptions>;
  private readonly lock: AdvisoryLock;
  private readonly loop: PollingLoop;
  private observations: Observation[] = [];
  private tenantHeads = new Map<string, TenantHead>();
  private lastAnchorAt = 0;
  private lastAnchoredSeq?: string;

  constructor(
    private readonly db: DataSource,
    options: ChainSealerOptions = {},
    private readonly sink?: AnchorSink,
  ) {
    this.options = {
      batchSize: 5_000,
      idlePollMs: 500,
      settleGraceMs: 200,
      anchorEveryMs: 60_000,
      backoffMs: 200,
      maxBackoffMs: 5_000,
      ...options,
    };
    this.lock = new AdvisoryLock(db, SEALER_LOCK);
    this.loop = new PollingLoop(() => this.sealStep(), {
      ...this.options,
      onError: async (error, pauseMs) => {
        this.logger.warn(`sealer paused ${pauseMs} ms: ${describeFailure(error)}`);
        await this.releaseLock();
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.releaseLock();
  }

  /** True while this instance holds the sealer lock (for tests and /health). */
  get active(): boolean {
    return this.lock.connection !== undefined;
  }

  /**
   * On demand (tests, operators): seal everything that settles within `maxWaitMs`. A transaction
   * still running past that keeps its seq, and everything after it, unsealed.
   */
  async sealNow(maxWaitMs = 2_000): Promise<SealResult> {
    const deadline = Date.now() + maxWaitMs;
    while (!(await this.acquireLock())) {
      if (Date.now() >= deadline) throw new Error('another sealer holds the chain lock');
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.observe();
    const target = this.observations.at(-1)!;
    let bound = await this.settledBound();
    while (bound < target.seqBound && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      bound = await this.settledBound();
    }
    return this.sealUpTo(bound);
  }

  /** Records the current head as an anchor (table, log, sink) if it moved since the last one. */
  async anchorNow(): Promise<ChainAnchor | undefined> {
    this.lastAnchorAt = Date.now();
    const [state] = await this.db.query(
      `SELECT head_seq::text AS seq, encode(head_link, 'hex') AS link, sealed_through::text AS through
       FROM event_chain_state`,
    );
    if (!state?.seq || state.seq === this.lastAnchoredSeq) return undefined;
    const [row] = await this.db.query(
      `INSERT INTO event_chain_anchors (seq, link, sealed_through) VALUES ($1, decode($2, 'hex'), $3)
       ON CONFLICT (seq) DO UPDATE SET sealed_through = excluded.sealed_through
       RETURNING to_char(anchored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`,
      [state.seq, state.link, state.through],
    );
    const anchor: ChainAnchor = {
      seq: state.seq,
      link: state.link,
      sealedThrough: state.through,
      anchoredAt: row.at,
    };
    this.lastAnchoredSeq = state.seq;
    // The log line is an anchor too: logs usually leave the machine for a store the database's
    // writers cannot edit. Only a position and a hash: nothing about any event's content.
    this.logger.log(`event chain anchor: seq=${anchor.seq} link=${anchor.link}`);
    if (this.sink) {
      await this.sink(anchor).catch((error: unknown) =>
        this.logger.warn(`anchor ${anchor.seq} not published: ${describeFailure(error)}`),
      );
    }
    return anchor;
  }

  /** One round of the background loop: seal what has settled, anchor when due; true if it sealed. */
  private async sealStep(): Promise<boolean> {
    if (!(await this.acquireLock())) return false;
    await this.observe();
    const { sealed } = await this.sealUpTo(await this.settledBound());
    if (this.options.anchorEveryMs > 0 && Date.now() - this.lastAnchorAt >= this.options.anchorEveryMs)
      await this.anchorNow();
    return sealed > 0;
  }

  /** Two statements, in this order: a seq taken before the first belongs to an xid below the second. */
  private async observe(): Promise<void> {
    const runner = this.lock.connection!;
    const [{ last }] = await runner.query(
      `SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass), 0)::text AS last`,
    );
    const [{ xmax }] = await runner.query(`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax`);
    const observation = { seqBound: BigInt(last), xmax: BigInt(xmax), at: Date.now() };
    if (this.observations.length >= MAX_OBSERVATIONS)
      this.observations[this.observations.length - 1] = observation;
    else this.observations.push(observation);
  }

  /** The highest seq known settled; observations it makes redundant are dropped. */
  private async settledBound(): Promise<bigint> {
    const [{ xmin }] = await this.lock.connection!.query(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`,
    );
    const horizon = BigInt(xmin);
    const now = Date.now();
    let bound = 0n;
    let settled = -1;
    this.observations.forEach((o, i) => {
      if (o.xmax <= horizon && now - o.at >= this.options.settleGraceMs) {
        if (o.seqBound > bound) bound = o.seqBound;
        settled = i;
      }
    });
    // Keep the newest settled one: the next round's bound is at least as high.
    if (settled > 0) this.observations = this.observations.slice(settled);
    return bound;
  }

  /** Seals every event after the sealed position up to `bound`, one transaction per batch. */
  private async sealUpTo(bound: bigint): Promise<SealResult> {
    let sealed = 0;
    for (;;) {
      const batch = await this.sealBatch(bound);
      sealed += batch.sealed;
      if (!batch.more) return { sealed, sealedThrough: batch.sealedThrough, headSeq: batch.headSeq };
    }
  }

  private async sealBatch(bound: bigint): Promise<SealResult & { more: boolean }> {
    const runner = this.lock.connection!;
    await runner.startTransaction();
    try {
      const [state] = await runner.query(
        `SELECT sealed_through::text AS through, head_seq::text AS head_seq, head_link
         FROM event_chain_state FOR UPDATE`,
      );
      const through = BigInt(state.through);
      const headSeq: bigint | null = state.head_seq === null ? null : BigInt(state.head_seq);
      if (bound <= through) {
        await runner.commitTransaction();
        return { sealed: 0, sealedThrough: through, headSeq, more: false };
      }
      const rows: ChainedEventRow[] = await runner.query(
        `SELECT ${CHAINED_EVENT_COLUMNS} FROM events e
         WHERE e.seq > $1 AND e.seq <= $2 ORDER BY e.seq LIMIT $3`,
        [through.toString(), bound.toString(), this.options.batchSize],
      );
      const full = rows.length === this.options.batchSize;
      // A short batch saw every settled seq up to the bound, gaps included: sealed through it.
      const newThrough = full ? BigInt(rows[rows.length - 1].seq) : bound;
      if (rows.length === 0) {
        await runner.query(`UPDATE event_chain_state SET sealed_through = $1, updated_at = now()`, [
          newThrough.toString(),
        ]);
        await runner.commitTransaction();
        return { sealed: 0, sealedThrough: newThrough, headSeq, more: false };
      }

      const heads = await this.tenantHeadsFor(runner, rows);
      let previous = {
        seq: state.head_seq as string | null,
        link: (state.head_link as Buffer) ?? GENESIS_LINK,
      };
      const columns = {
        seq: [] as string[],
        eventId: [] as string[],
        tenantId: [] as (string | null)[],
        prevSeq: [] as (string | null)[],
        link: [] as string[],
        tenantPrevSeq: [] as (string | null)[],
        tenantLink: [] as string[],
      };
      for (const row of rows) {
        const digest = eventDigest(toChainedEvent(row));
        const link = chainLink(previous.link, digest);
        const key = tenantKey(row.tenant_id);
        const tenantPrevious = heads.get(key);
        const tenantLink = chainLink(tenantPrevious?.link ?? GENESIS_LINK, digest);
        columns.seq.push(row.seq);
        columns.eventId.push(row.id);
        columns.tenantId.push(row.tenant_id);
        columns.prevSeq.push(previous.seq);
        columns.link.push(link.toString('hex'));
        columns.tenantPrevSeq.push(tenantPrevious?.seq ?? null);
        columns.tenantLink.push(tenantLink.toString('hex'));
        previous = { seq: row.seq, link };
        heads.set(key, { seq: row.seq, link: tenantLink });
      }
      await runner.query(
        `INSERT INTO event_chain (seq, event_id, tenant_id, prev_seq, link, tenant_prev_seq, tenant_link)
         SELECT seq, event_id, tenant_id, prev_seq, decode(link, 'hex'), tenant_prev_seq, decode(tenant_link, 'hex')
         FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::bigint[], $7::text[])
           AS c(seq, event_id, tenant_id, prev_seq, link, tenant_prev_seq, tenant_link)`,
        [
          columns.seq,
          columns.eventId,
          columns.tenantId,
          columns.prevSeq,
          columns.link,
          columns.tenantPrevSeq,
          columns.tenantLink,
        ],
      );
      await runner.query(
        `UPDATE event_chain_state
         SET sealed_through = $1, head_seq = $2, head_link = decode($3, 'hex'), updated_at = now()`,
        [newThrough.toString(), previous.seq, previous.link.toString('hex')],
      );
      await runner.commitTransaction();
      // Only now: a rolled-back batch must not leave tenant heads that were never stored.
      for (const [key, head] of heads) this.tenantHeads.set(key, head);
      return {
        sealed: rows.length,
        sealedThrough: newThrough,
        headSeq: BigInt(previous.seq!),
        more: full,
      };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }

  /** The last sealed link of each tenant in the batch: from memory, else one indexed query. */
  private async tenantHeadsFor(
    runner: QueryRunner,
    rows: ChainedEventRow[],
  ): Promise<Map<string, TenantHead>> {
    const heads = new Map<string, TenantHead>();
    const unknown = new Set<string>();
    for (const row of rows) {
      const key = tenantKey(row.tenant_id);
      const known = this.tenantHeads.get(key);
      if (known) heads.set(key, known);
      else unknown.add(key);
    }
    if (unknown.size === 0) return heads;
    const tenants = [...unknown].filter((key) => key !== NO_TENANT);
    const found: { tenant_id: string | null; seq: string; link: Buffer }[] = await runner.query(
      `SELECT t.tenant_id, c.seq::text AS seq, c.tenant_link AS link
       FROM unnest($1::uuid[]) AS t(tenant_id)
       CROSS JOIN LATERAL (SELECT seq, tenant_link FROM event_chain
         WHERE tenant_id = t.tenant_id ORDER BY seq DESC LIMIT 1) c`,
      [tenants],
    );
    if (unknown.has(NO_TENANT)) {
      found.push(
        ...(await runner.query(
          `SELECT NULL AS tenant_id, c.seq::text AS seq, c.tenant_link AS link FROM event_chain c
           WHERE c.tenant_id IS NULL ORDER BY c.seq DESC LIMIT 1`,
        )),
      );
    }
    for (const head of found) heads.set(tenantKey(head.tenant_id), { seq: head.seq, link: head.link });
    return heads;
  }

  private async acquireLock(): Promise<boolean> {
    const outcome = await this.lock.tryAcquire();
    if (outcome === 'acquired') {
      // Another instance may have sealed while this one did not hold the lock.
      this.tenantHeads.clear();
      this.observations = [];
      this.lastAnchoredSeq = undefined;
      this.logger.log('this instance is the active event chain sealer');
    }
    return outcome !== 'taken';
  }

  private releaseLock(): Promise<void> {
    return this.lock.release();
  }
}

const NO_TENANT = '';
const tenantKey = (tenantId: string | null) => tenantId ?? NO_TENANT;
