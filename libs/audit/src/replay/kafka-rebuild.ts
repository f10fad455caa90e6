import { randomBytes } from 'node:crypto';
import {
  applySignIns,
  countSignIns,
  SIGN_IN_EVENT_TYPES,
  readableSignIns,
  recordLastUse,
  signInActivityProjection,
} from '@latchkey/app-passwords';
import type { EventEnvelope } from '@latchkey/event-store';
import { applyOnce, connectedClient, fromCloudEventMessage, type KafkaProjection } from '@latchkey/messaging';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { MODEL_TABLES, SIGN_IN_ACTIVITY_PROJECTION } from './read-models';
import { TableCopies } from './table-swap';

export interface KafkaRebuildProgress {
  phase: 'consume' | 'swap' | 'done';
  messages: number;
  /** Messages between the start offsets and the topic's end when the rebuild started. */
  total: number;
}

export interface KafkaRebuildOptions {
  topic: string;
  /** The fresh consumer group is `<groupPrefix>.replay.<id>`, deleted when the rebuild ends. */
  groupPrefix: string;
  /**
   * Rebuild the days from this instant's UTC day on, from the messages published since that day
   * began; earlier days are kept as the live model has them. Without it, the whole topic.
   */
  from?: Date;
  lockTimeoutMs?: number;
  maxSwapAttempts?: number;
  /** How long the swap, holding the locks, waits for the rebuild to reach the topic's end. */
  catchUpTimeoutMs?: number;
  onProgress?: (progress: KafkaRebuildProgress) => void;
}

export interface KafkaRebuildResult {
  groupId: string;
  messages: number;
  swapAttempts: number;
  seconds: number;
}

const TABLES = MODEL_TABLES['sign-in-activity'];
/** With `from`: what the swap still needs of the consumed attempts (see `projection`). */
const STASHED = 'replay_stashed_attempts';
const LOCK_FAILURES = new Set(['55P03', '40P01']);
const EVENTS_PER_TRANSACTION = 1_000;

/**
 * Rebuilds the Kafka-fed read model (credential_usage, sign_in_activity and its
 * projection_stream_positions rows) from the events topic, with a fresh consumer group, into fresh
 * tables (table-swap.ts), and swaps them in.
 *
 * The live consumer keeps running meanwhile, into the live tables. The swap locks those tables (the
 * live consumer's next applyOnce waits), reads the topic's end offsets, lets the rebuild consume up to
 * them, then stops it applying: at that moment the rebuild has counted every message the live consumer
 * had. Its positions are merged with the live ones (the greater wins), so after the swap the live
 * consumer, resuming from its own committed offsets, skips every event the rebuild counted and counts
 * every later one, into the new tables (names are resolved again after the swap).
 *
 * With `from`: the rebuild starts at the offsets of the first messages published on or after the UTC
 * day of `from` began. An attempt's message is published after the attempt (the relay sends committed
 * events), so every attempt of those days is among them; attempts of earlier days published late are
 * among them too. Days before are copied from the live model in the swap; a late attempt of such a day
 * is added there only if the live model has not counted it (its version is above the live position).
 * Last use is not per day: it is the live credential_usage, copied in the swap, plus the successes
 * the rebuild consumed that the live model has not counted (above the live position), as the live
 * consumer would have added them had it not been stopped by the swap.
 */
export async function rebuildFromKafka(
  db: DataSource,
  kafka: Kafka,
  options: KafkaRebuildOptions,
): Promise<KafkaRebuildResult> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const admin = await connectedClient(kafka.admin());
    try {
      return await new KafkaRebuild(db, runner, kafka, admin, options).run();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

class KafkaRebuild {
  private readonly id = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  private readonly schema = `rebuild_${this.id}`;
  private readonly groupId: string;
  private readonly copies: TableCopies;
  private readonly fromDay?: string;
  /** Per partition, the next offset to apply. */
  private readonly next = new Map<number, bigint>();
  private consumer?: Consumer;
  private applying = false;
  private inFlight: Promise<unknown> = Promise.resolve();
  private failure?: unknown;
  private messages = 0;
  private total = 0;

  constructor(
    private readonly db: DataSource,
    private readonly runner: QueryRunner,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly options: KafkaRebuildOptions,
  ) {
    this.groupId = `${options.groupPrefix}.replay.${this.id}`;
    this.copies = new TableCopies(runner, this.schema, TABLES);
    this.fromDay = options.from?.toISOString().slice(0, 10);
  }

  async run(): Promise<KafkaRebuildResult> {
    const started = performance.now();
    await this.copies.create();
    await this.copies.complete();
    await this.runner.query(
      `CREATE TABLE ${this.schema}.${STASHED} (stream_id text, version integer, type text, tenant_id uuid,
         data jsonb, seq bigint)`,
    );
    try {
      await this.consume();
      const attempts = await this.swap();
      this.progress('done');
      return {
        groupId: this.groupId,
        messages: this.messages,
        swapAttempts: attempts,
        seconds: (performance.now() - started) / 1000,
      };
    } catch (error) {
      await this.runner.query('ROLLBACK').catch(() => undefined);
      await this.runner.query(`DROP TABLE IF EXISTS ${this.schema}.${STASHED}`).catch(() => undefined);
      await this.copies.drop(this.schema).catch(() => undefined);
      throw error;
    } finally {
      this.applying = false;
      await this.consumer?.disconnect().catch(() => undefined);
      await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    }
  }

  /** Starts the fresh group at the chosen offsets and waits until it reaches today's end of the topic. */
  private async consume(): Promise<void> {
    const { topic } = this.options;
    const ends = await this.admin.fetchTopicOffsets(topic);
    const starts = this.fromDay
      ? await this.admin.fetchTopicOffsetsByTimestamp(topic, Date.parse(`${this.fromDay}T00:00:00Z`))
      : ends.map(({ partition, low }) => ({ partition, offset: low }));
    for (const { partition, offset } of starts) {
      const end = ends.find((e) => e.partition === partition)!;
      // No message at or after the instant: start at the end.
      const start = offset === '-1' ? BigInt(end.high) : BigInt(offset);
      this.next.set(partition, start);
      this.total += Number(BigInt(end.high) - start);
    }
    await this.admin.setOffsets({
      groupId: this.groupId,
      topic,
      partitions: [...this.next].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
    });
    this.applying = true;
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
        for (let start = 0; start < batch.messages.length; start += EVENTS_PER_TRANSACTION) {
          if (!this.applying || !isRunning()) return;
          const chunk = batch.messages.slice(start, start + EVENTS_PER_TRANSACTION);
          const events = chunk.flatMap((message) => {
            try {
              return [fromCloudEventMessage(message)];
            } catch {
              return []; // not a Latchkey CloudEvent: the live consumer skips it too
            }
          });
          const applied = applyOnce(this.rebuildDb, this.projection, events);
          this.inFlight = applied.catch(() => undefined);
          try {
            await applied;
          } catch (error) {
            this.failure = error;
            throw error;
          }
          const last = chunk[chunk.length - 1].offset;
          this.next.set(batch.partition, BigInt(last) + 1n);
          this.messages += chunk.length;
          resolveOffset(last);
          await heartbeat();
          this.progress('consume');
        }
      },
    });
    await this.reach(ends, Number.POSITIVE_INFINITY);
  }

  /** Waits until every partition is applied up to `ends` (their high watermarks). */
  private async reach(ends: { partition: number; high: string }[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.failure) throw this.failure;
      const behind = ends.filter(({ partition, high }) => (this.next.get(partition) ?? 0n) < BigInt(high));
      if (behind.length === 0) return;
      if (Date.now() > deadline)
        throw Object.assign(new Error('the rebuild did not reach the topic end'), { code: '55P03' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async swap(): Promise<number> {
    const maxAttempts = this.options.maxSwapAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      this.progress('swap');
      try {
        await this.runner.query('BEGIN');
        await this.runner.query(`SET LOCAL lock_timeout = '${this.options.lockTimeoutMs ?? 300}ms'`);
        await this.runner.query(
          `LOCK TABLE ${TABLES.map((t) => `public.${t}`).join(', ')} IN ACCESS EXCLUSIVE MODE`,
        );
        // The live consumer cannot count anything more: what it counted was published before now.
        await this.reach(
          await this.admin.fetchTopicOffsets(this.options.topic),
          this.options.catchUpTimeoutMs ?? 10_000,
        );
        this.applying = false;
        await this.inFlight;
        await this.mergeWithLive();
        await this.runner.query(`DROP TABLE ${this.schema}.${STASHED}`);
        await this.copies.swapIn(`replaced_${this.id}`);
        await this.runner.query('COMMIT');
        await this.copies.drop(`replaced_${this.id}`);
        return attempt;
      } catch (error) {
        await this.runner.query('ROLLBACK').catch(() => undefined);
        const failure = error as { driverError?: { code?: string }; code?: string };
        const code = failure.driverError?.code ?? failure.code ?? '';
        if (!LOCK_FAILURES.has(code) || attempt >= maxAttempts || this.failure) throw error;
        this.applying = true; // the consumer picks up where it stopped (unresolved messages come again)
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1_000)));
      }
    }
  }

  private async mergeWithLive(): Promise<void> {
    const s = this.schema;
    if (this.fromDay) {
      await this.runner.query(
        `INSERT INTO ${s}.sign_in_activity SELECT * FROM public.sign_in_activity WHERE day < $1::date`,
        [this.fromDay],
      );
      await this.runner.query(`INSERT INTO ${s}.credential_usage SELECT * FROM public.credential_usage`);
      const unseen = `${s}.${STASHED} e
        LEFT JOIN public.projection_stream_positions p ON p.projection = $1 AND p.stream_id = e.stream_id
        WHERE e.version > coalesce(p.version, 0)`;
      await this.runner.query(`SET LOCAL search_path = ${s}, public`);
      // Late attempts of the earlier days that the live model has not counted yet.
      const late: StashedRow[] = await this.runner.query(
        `SELECT e.* FROM ${unseen} AND left(e.data ->> 'attemptedAt', 10) < $2 ORDER BY e.stream_id, e.version`,
        [SIGN_IN_ACTIVITY_PROJECTION, this.fromDay],
      );
      await countSignIns(this.runner.manager, readableSignIns(late.map(fromStash)));
      // Successes of any day the live model has not counted yet.
      await this.runner.query(recordLastUse(`(SELECT e.type, e.data, e.seq FROM ${unseen}) AS unseen`), [
        SIGN_IN_ACTIVITY_PROJECTION,
      ]);
      await this.runner.query(`SET LOCAL search_path TO DEFAULT`);
    }
    await this.runner.query(
      `INSERT INTO ${s}.projection_stream_positions AS r SELECT * FROM public.projection_stream_positions
       ON CONFLICT (projection, stream_id) DO UPDATE SET version = GREATEST(r.version, EXCLUDED.version)`,
    );
  }

  /** applyOnce's transactions with the copies first in the search path. */
  private get rebuildDb(): DataSource {
    const schema = this.schema;
    const db = this.db;
    return {
      transaction: <T>(work: (tx: EntityManager) => Promise<T>) =>
        db.transaction(async (tx) => {
          await tx.query(`SET LOCAL search_path = ${schema}, public`);
          return work(tx);
        }),
    } as unknown as DataSource;
  }

  /**
   * The live projection, except that with `from` the swap still needs some of the attempts: those of
   * earlier days (counted only if the live model has not) and every success (last use is merged with
   * the live one then). Those are stashed; only the later days are counted as they come.
   */
  private get projection(): KafkaProjection {
    const fromDay = this.fromDay;
    if (!fromDay)
      return {
        ...signInActivityProjection,
        // What the live model set aside is skipped here (and logged): both lack the same events.
        apply: (tx: EntityManager, events: readonly EventEnvelope[]) =>
          applySignIns(tx, readableSignIns(events)),
      };
    const stash = `${this.schema}.${STASHED}`;
    return {
      name: signInActivityProjection.name,
      handles: signInActivityProjection.handles,
      async apply(tx: EntityManager, events: readonly EventEnvelope[]): Promise<void> {
        const readable = readableSignIns(events);
        const earlier = (e: (typeof readable)[number]) => e.data.attemptedAt.slice(0, 10) < fromDay;
        await countSignIns(
          tx,
          readable.filter((e) => !earlier(e)),
        );
        const stashed = readable.filter((e) => earlier(e) || e.type === SIGN_IN_EVENT_TYPES.allowed);
        if (stashed.length === 0) return;
        await tx.query(
          `INSERT INTO ${stash}
           SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::uuid[], $5::jsonb[], $6::bigint[])`,
          [
            stashed.map((e) => e.streamId),
            stashed.map((e) => e.version),
            stashed.map((e) => e.type),
            stashed.map((e) => e.tenantId),
            stashed.map((e) => JSON.stringify(e.data)),
            stashed.map((e) => e.seq.toString()),
          ],
        );
      },
    };
  }

  private progress(phase: KafkaRebuildProgress['phase']): void {
    this.options.onProgress?.({ phase, messages: this.messages, total: Math.max(this.total, this.messages) });
  }
}

/** A row of the stash: what the projection reads of an event (no id, actor or instants). */
interface StashedRow {
  stream_id: string;
  version: number;
  type: string;
  tenant_id: string;
  data: unknown;
  seq: string;
}

const fromStash = (row: StashedRow) =>
  ({
    seq: BigInt(row.seq),
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    tenantId: row.tenant_id,
    data: row.data,
  }) as EventEnvelope;
