import { randomBytes } from 'node:crypto';
import { allInvalidation, CredentialsProjection, VerificationCoherence } from '@latchkey/app-passwords';
import { eventColumns, toEnvelope, type EventRow } from '@latchkey/event-store';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  createStaging,
  CREDENTIAL_TYPES,
  projectStagedBatch,
  projectStagedSums,
  STAGING,
  typesOf,
  type Sql,
} from './batch-projection';
import { resolveModels, SIGN_IN_ACTIVITY_PROJECTION, tablesOf, type ReadModelName } from './read-models';
import { TableCopies } from './table-swap';

export interface RebuildProgress {
  phase: 'bulk' | 'indexes' | 'catch-up' | 'swap' | 'done';
  /** Events read so far. */
  events: number;
  /** The newest position when the rebuild started: the events it will read, give or take the gaps. */
  total: number;
}

export interface RebuildOptions {
  /** Model names (read-models.ts); all by default. */
  only?: readonly string[];
  /** Events per batch of the bulk phase. */
  batchSize?: number;
  /** How long the swap waits for the live tables' locks before it lets go and tries again. */
  lockTimeoutMs?: number;
  maxSwapAttempts?: number;
  onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildResult {
  models: ReadModelName[];
  tables: string[];
  /** Events read: the bulk phase, the catch-up before the swap and the one inside it. */
  events: number;
  /** Of those, read inside the swap's transaction, under the locks. */
  eventsInSwap: number;
  swapAttempts: number;
  seconds: { total: number; bulk: number; indexes: number; swap: number };
}

const MAX_SEQ = '9223372036854775807';
/** The bulk phase ends (and indexes are built) when this few events are left to read. */
const NEAR_THE_END = 2_000;
const LOCK_FAILURES = new Set(['55P03', '40P01']); // lock_not_available, deadlock_detected

/**
 * Rebuilds read models from the event store into fresh tables and swaps them in while the API keeps
 * serving. On a connection of its own:
 *
 * 1. Copies of the live tables are made in a schema `rebuild_<id>`. Every batch runs with
 *    `SET LOCAL search_path = rebuild_<id>, public`, so the projections' unqualified table names are
 *    the copies' (and `events` is still public's).
 * 2. Bulk: the events are read in sequence order, `batchSize` at a time, and each batch is projected
 *    set-based (batch-projection.ts). Positions are taken at insert but become visible at commit, so a
 *    batch stops at the newest visible position and remembers every position at or below it that it
 *    did not see (in flight, or rolled back for good): those "holes" are looked up again with each
 *    later batch and in the swap. Nothing below the high-water mark is ever skipped, whatever order
 *    transactions commit in. Each stream's events commit in version order (an append waits for the
 *    previous version's commit), so an event that comes late never follows a newer one of its stream.
 * 3. Indexes, unique constraints and foreign keys are built on the copies, then the catch-up reads the
 *    events appended meanwhile, through the real inline projection (CredentialsProjection, one
 *    statement per event, as the API writes them: with unique indexes in place a set-based rename could
 *    collide with a name another row gives up later in the same statement).
 * 4. The swap, in one short transaction: the live tables are locked ACCESS EXCLUSIVE, in foreign-key
 *    order, with a lock_timeout; the events committed since the catch-up (and the holes) are applied;
 *    live tables move to `replaced_<id>` and the copies to public; commit; the old tables are dropped.
 *    On a lock timeout or deadlock the transaction lets go, catches up again, and retries.
 *
 * Why nothing is lost or counted twice across the swap. The inline projection writes its tables in
 * the append's own transaction.
 * - An appender that already holds a lock on a live table (it has written to it) finishes first: the
 *   swap's LOCK waits for it. Its events are committed when the lock is granted, so the catch-up in
 *   the swap (a fresh READ COMMITTED snapshot after the LOCK) sees and applies them.
 * - An appender that has not touched the tables yet blocks on the swap's lock. Its events are not
 *   committed, so the catch-up does not see them. When the swap commits, PostgreSQL, having waited for
 *   a lock on a relation that was moved meanwhile, looks the name up again and finds the new table:
 *   the appender applies its own events to the new tables.
 * - Every event is therefore applied to the new tables exactly once, by the rebuild or by its own
 *   appender; the swap never sees half of a transaction.
 * - Readers (verification) wait at most for the lock attempt plus the swap (a few milliseconds of
 *   catch-up), then read the new tables. Appenders that lose a lock race to the swap are never the
 *   ones PostgreSQL aborts: lock_timeout is below deadlock_timeout, so the swap gives up first.
 * - The Kafka-fed sign_in_activity and credential_usage are rebuilt from the same events: their
 *   positions then say which events they count, and the consumer that resumes on the new tables
 *   skips them (applyOnce).
 */
export async function rebuildReadModels(
  db: DataSource,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    return await new EventStoreRebuild(runner, options).run();
  } finally {
    await runner.release();
  }
}

class EventStoreRebuild {
  private readonly models: ReadModelName[];
  private readonly tables: string[];
  private readonly id = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  private readonly schema = `rebuild_${this.id}`;
  private readonly copies: TableCopies;
  private readonly projection = new CredentialsProjection();
  private readonly types: string[];
  /** Every position at or below `after` has been applied, except the holes. */
  private after = '0';
  private holes: string[] = [];
  private events = 0;
  private total = 0;

  constructor(
    private readonly runner: QueryRunner,
    private readonly options: RebuildOptions,
  ) {
    this.models = resolveModels(options.only);
    this.tables = tablesOf(this.models);
    this.types = typesOf(this.models);
    this.copies = new TableCopies(runner, this.schema, this.tables);
  }

  private get sql(): Sql {
    return this.runner;
  }

  async run(): Promise<RebuildResult> {
    const started = performance.now();
    // Batches sort and aggregate tens of thousands of rows: in memory, not in temporary files.
    await this.sql.query(`SET work_mem = '64MB'`);
    await createStaging(this.sql);
    this.total = Number(await this.newestPosition());
    await this.copies.create();
    try {
      await this.readBatches('bulk', this.options.batchSize ?? 50_000);
      const bulk = performance.now();
      this.progress('indexes');
      await this.copies.complete();
      const indexes = performance.now();
      const { attempts, eventsInSwap } = await this.swap();
      const swapped = performance.now();
      this.progress('done');
      return {
        models: this.models,
        tables: this.tables,
        events: this.events,
        eventsInSwap,
        swapAttempts: attempts,
        seconds: {
          total: (swapped - started) / 1000,
          bulk: (bulk - started) / 1000,
          indexes: (indexes - bulk) / 1000,
          swap: (swapped - indexes) / 1000,
        },
      };
    } catch (error) {
      await this.sql.query('ROLLBACK').catch(() => undefined);
      await this.copies.drop(this.schema).catch(() => undefined);
      throw error;
    }
  }

  private async newestPosition(): Promise<string> {
    const [{ seq }] = await this.sql.query(`SELECT coalesce(max(seq), 0)::text AS seq FROM events`);
    return seq as string;
  }

  /** Reads batches until fewer than NEAR_THE_END events are left (then the swap takes the rest). */
  private async readBatches(phase: 'bulk' | 'catch-up', batchSize: number): Promise<void> {
    for (;;) {
      const newest = BigInt(await this.newestPosition());
      const left = newest - BigInt(this.after);
      if (left <= 0n || (left < NEAR_THE_END && phase === 'catch-up')) return;
      if (left < NEAR_THE_END && phase === 'bulk' && this.events > 0) return;
      const upTo = BigInt(this.after) + BigInt(batchSize);
      await this.batch(phase, (upTo < newest ? upTo : newest).toString());
    }
  }

  private async batch(phase: 'bulk' | 'catch-up', upTo: string): Promise<void> {
    await this.sql.query('BEGIN');
    try {
      await this.sql.query(`SET LOCAL search_path = ${this.schema}, public`);
      await this.stage(upTo, true);
      await this.project(phase === 'bulk' ? 'set-based' : 'event by event');
      await this.sql.query('COMMIT');
    } catch (error) {
      await this.sql.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    this.progress(phase);
  }

  /**
   * Stages the events after `after` up to `upTo` and the holes that have since become visible, in one
   * statement (one snapshot), and records as holes the positions of the range it did not see.
   */
  private async stage(upTo: string, trackHoles: boolean): Promise<number> {
    await this.sql.query(`TRUNCATE ${STAGING}`);
    const [found]: { in_range: string; filled: string[]; missing: string[] }[] = await this.sql.query(
      `WITH range AS MATERIALIZED (
         SELECT seq, stream_id, version, type, tenant_id, data, occurred_at FROM public.events
         WHERE (seq > $1 AND seq <= $2) OR seq = ANY($3::bigint[])),
       staged AS (
         INSERT INTO ${STAGING} SELECT * FROM range WHERE type = ANY($4::text[]) RETURNING 1)
       SELECT (SELECT count(*) FROM staged) AS staged,
              (SELECT count(*) FROM range WHERE seq > $1 AND seq <= $2) AS in_range,
              (SELECT coalesce(array_agg(seq::text), '{}') FROM range WHERE seq = ANY($3::bigint[])) AS filled,
              CASE WHEN $5 AND (SELECT count(*) FROM range WHERE seq > $1 AND seq <= $2) < $2 - $1
                   THEN (SELECT array_agg(s::text) FROM generate_series($1 + 1, $2) AS s
                         WHERE s NOT IN (SELECT seq FROM range))
                   ELSE '{}' END AS missing`,
      [this.after, upTo, this.holes, this.types, trackHoles],
    );
    const filled = new Set(found.filled);
    this.holes = [...this.holes.filter((seq) => !filled.has(seq)), ...(found.missing ?? [])];
    this.after = upTo;
    const read = Number(found.in_range) + filled.size;
    this.events += read;
    return read;
  }

  private async project(how: 'set-based' | 'event by event'): Promise<void> {
    if (how === 'set-based' || !this.models.includes('credentials')) {
      await projectStagedBatch(this.sql, this.models);
      return;
    }
    const rows: EventRow[] = await this.sql.query(
      `SELECT ${eventColumns('e')} FROM public.events e
       WHERE e.seq IN (SELECT seq FROM ${STAGING} WHERE type = ANY($1::text[])) ORDER BY e.seq`,
      [CREDENTIAL_TYPES],
    );
    await this.projection.apply(this.runner.manager, rows.map(toEnvelope));
    await projectStagedSums(this.sql, this.models);
  }

  private async swap(): Promise<{ attempts: number; eventsInSwap: number }> {
    const maxAttempts = this.options.maxSwapAttempts ?? 50;
    const lockTimeoutMs = this.options.lockTimeoutMs ?? 300;
    const oldSchema = `replaced_${this.id}`;
    for (let attempt = 1; ; attempt++) {
      await this.readBatches('catch-up', 10_000);
      this.progress('swap');
      const before = { after: this.after, holes: this.holes, events: this.events };
      try {
        await this.sql.query('BEGIN');
        await this.sql.query(`SET LOCAL lock_timeout = '${lockTimeoutMs}ms'`);
        await this.sql.query(
          `LOCK TABLE ${this.tables.map((t) => `public.${t}`).join(', ')} IN ACCESS EXCLUSIVE MODE`,
        );
        // Everything committed is now in the live tables and visible here; nothing else can commit
        // into them until this transaction ends.
        await this.sql.query(`SET LOCAL search_path = ${this.schema}, public`);
        const eventsInSwap = await this.stage(MAX_SEQ, false);
        await this.project('event by event');
        if (this.models.includes('sign-in-activity')) {
          // The positions table is shared by every Kafka projection: the others keep theirs.
          await this.sql.query(
            `INSERT INTO ${this.schema}.projection_stream_positions
             SELECT * FROM public.projection_stream_positions WHERE projection <> $1`,
            [SIGN_IN_ACTIVITY_PROJECTION],
          );
        }
        await this.sql.query(`SET LOCAL search_path TO DEFAULT`);
        await this.copies.swapIn(oldSchema);
        // API instances answering verifications from memory drop it at this commit and read the
        // new tables (nobody waits: the new tables say what the old ones said).
        if (this.models.includes('credentials'))
          await this.sql.query(...VerificationCoherence.announcement([allInvalidation()]));
        await this.sql.query('COMMIT');
        await this.copies.drop(oldSchema);
        return { attempts: attempt, eventsInSwap };
      } catch (error) {
        await this.sql.query('ROLLBACK').catch(() => undefined);
        Object.assign(this, before);
        const failure = error as { driverError?: { code?: string }; code?: string };
        const code = failure.driverError?.code ?? failure.code ?? '';
        if (!LOCK_FAILURES.has(code) || attempt >= maxAttempts) throw error;
        // Busy tables: let the appenders through, then try again a little later.
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 1_000)));
      }
    }
  }

  private progress(phase: RebuildProgress['phase']): void {
    this.options.onProgress?.({ phase, events: this.events, total: Math.max(this.total, this.events) });
  }
}
