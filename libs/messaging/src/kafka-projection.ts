import { Logger } from '@nestjs/common';
import type { EventEnvelope } from '@latchkey/event-store';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { fromCloudEventMessage } from './cloud-event';

/**
 * A read model fed from the events topic. `apply` gets the new events of a batch, in order, in a
 * transaction with the position update; it should write them in a few statements, not one each.
 */
export interface KafkaProjection {
  readonly name: string;
  handles(type: string): boolean;
  apply(tx: EntityManager, events: readonly EventEnvelope[]): Promise<void>;
}

/**
 * Applies a projection idempotently: each stream's last applied version is kept beside the read
 * model and moved in the same transaction, so a re-sent or replayed event changes nothing.
 * Returns how many of the events were applied.
 */
export async function applyOnce(
  db: DataSource,
  projection: KafkaProjection,
  events: readonly EventEnvelope[],
): Promise<number> {
  const relevant = events.filter((event) => projection.handles(event.type));
  if (relevant.length === 0) return 0;
  const newest = new Map<string, number>();
  for (const { streamId, version } of relevant)
    newest.set(streamId, Math.max(version, newest.get(streamId) ?? 0));
  return db.transaction(async (tx) => {
    const streams = [...newest.keys()].sort();
    // Locks the positions (in one order: two consumers never deadlock) and learns where they were.
    const before: { stream_id: string; version: number }[] = await tx.query(
      `SELECT stream_id, version FROM projection_stream_positions
       WHERE projection = $1 AND stream_id = ANY($2::text[]) ORDER BY stream_id FOR UPDATE`,
      [projection.name, streams],
    );
    const applied = new Map(before.map((row) => [row.stream_id, row.version]));
    // A stream without a position has no row for FOR UPDATE to lock: two consumers given its first
    // events at once (the old owner of a partition still working through a batch after a rebalance)
    // would both apply them. So claim the row: an insert waits for a concurrent uncommitted insert
    // of the same key, and a row someone else inserted first is then read, and locked, as it stands.
    const missing = streams.filter((id) => !applied.has(id));
    if (missing.length > 0) {
      const claimed: { stream_id: string }[] = await tx.query(
        `INSERT INTO projection_stream_positions (projection, stream_id, version)
         SELECT $1, stream_id, 0 FROM unnest($2::text[]) AS p(stream_id) ORDER BY stream_id
         ON CONFLICT (projection, stream_id) DO NOTHING RETURNING stream_id`,
        [projection.name, missing],
      );
      for (const { stream_id } of claimed) applied.set(stream_id, 0);
      const taken = missing.filter((id) => !applied.has(id));
      if (taken.length > 0) {
        const rows: { stream_id: string; version: number }[] = await tx.query(
          `SELECT stream_id, version FROM projection_stream_positions
           WHERE projection = $1 AND stream_id = ANY($2::text[]) ORDER BY stream_id FOR UPDATE`,
          [projection.name, taken],
        );
        for (const row of rows) applied.set(row.stream_id, row.version);
      }
    }
    const fresh = relevant.filter((event) => {
      if (event.version <= (applied.get(event.streamId) ?? 0)) return false; // seen, or repeated here
      applied.set(event.streamId, event.version);
      return true;
    });
    if (fresh.length === 0) return 0;
    await tx.query(
      `INSERT INTO projection_stream_positions (projection, stream_id, version)
       SELECT $1, stream_id, version FROM unnest($2::text[], $3::int[]) AS p(stream_id, version)
       ORDER BY stream_id
       ON CONFLICT (projection, stream_id) DO UPDATE SET version = EXCLUDED.version
         WHERE projection_stream_positions.version < EXCLUDED.version`,
      [projection.name, streams, streams.map((id) => newest.get(id))],
    );
    await projection.apply(tx, fresh);
    return fresh.length;
  });
}

/**
 * SQLSTATE classes that say nothing about the events: the connection (08), a deadlock or
 * serialization failure (40), resources (53), a shutdown or a cancelled statement (57), a system
 * error (58), and a lock timeout (55P03). The same apply may succeed a moment later.
 */
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58']);
const isTransient = (error: unknown): boolean => {
  const { driverError, code, syscall } = (error ?? {}) as {
    driverError?: { code?: unknown };
    code?: unknown;
    syscall?: unknown;
  };
  if (typeof syscall === 'string') return true; // a Node system error (ECONNRESET…): the connection's
  const sqlState = driverError?.code ?? code;
  return (
    typeof sqlState === 'string' && (TRANSIENT_CLASSES.has(sqlState.slice(0, 2)) || sqlState === '55P03')
  );
};

const answers = (db: DataSource): Promise<boolean> =>
  db.query('SELECT 1').then(
    () => true,
    () => false,
  );

/** What an event set aside looked like when it failed. */
export interface DeadLetter {
  streamId: string;
  version: number;
  eventId: string;
  error: string;
}

/**
 * applyOnce, except that one event the projection cannot apply does not stop it for good. When a
 * chunk fails while PostgreSQL answers, and not for a transient reason, its events are applied one
 * at a time; an event that fails on its own is set aside in projection_dead_letters with its error,
 * and its stream's position moves past it, in one transaction. Everything else is thrown, for the
 * consumer to retry: a database that is away must never turn good events into dead letters.
 */
export async function applyOrSetAside(
  db: DataSource,
  projection: KafkaProjection,
  events: readonly EventEnvelope[],
): Promise<{ applied: number; setAside: DeadLetter[] }> {
  try {
    return { applied: await applyOnce(db, projection, events), setAside: [] };
  } catch (error) {
    if (!(await eventIsToBlame(db, error))) throw error;
  }
  let applied = 0;
  const setAside: DeadLetter[] = [];
  for (const event of events) {
    try {
      applied += await applyOnce(db, projection, [event]);
    } catch (error) {
      if (!(await eventIsToBlame(db, error))) throw error;
      const letter = {
        streamId: event.streamId,
        version: event.version,
        eventId: event.id,
        error: String(error).slice(0, 1_000),
      };
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO projection_dead_letters (projection, stream_id, version, event_id, event_type, error)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
          [projection.name, event.streamId, event.version, event.id, event.type, letter.error],
        );
        await tx.query(
          `INSERT INTO projection_stream_positions (projection, stream_id, version) VALUES ($1, $2, $3)
           ON CONFLICT (projection, stream_id) DO UPDATE SET version = EXCLUDED.version
             WHERE projection_stream_positions.version < EXCLUDED.version`,
          [projection.name, event.streamId, event.version],
        );
      });
      setAside.push(letter);
    }
  }
  return { applied, setAside };
}

/** An error the event is to blame for: not a transient one, and raised while the database answers. */
const eventIsToBlame = async (db: DataSource, error: unknown): Promise<boolean> =>
  !isTransient(error) && (await answers(db));

/** Events named one by one in the log before the rest of a chunk's are only counted. */
const NAMED_DEAD_LETTERS = 3;

/**
 * The log lines for a chunk's dead letters: one per event for the first few, then one line for the
 * rest, so that a topic full of events a model cannot read (another environment's, a bad release's)
 * does not flood the log with a line per event; projection_dead_letters holds each one.
 */
export function describeSetAside(letters: readonly DeadLetter[]): string[] {
  const lines = letters
    .slice(0, NAMED_DEAD_LETTERS)
    .map(
      (letter) =>
        `set aside event ${letter.eventId} (${letter.streamId} v${letter.version}) in projection_dead_letters: ${letter.error}`,
    );
  const more = letters.length - NAMED_DEAD_LETTERS;
  if (more > 0) lines.push(`set aside ${more} more events of this batch in projection_dead_letters`);
  return lines;
}

/** At most this many events per transaction: a batch of a busy topic can hold thousands. */
const EVENTS_PER_TRANSACTION = 1_000;

/**
 * Runs one projection as a Kafka consumer group (`<prefix>.<name>`): several processes share the
 * partitions, and a failed apply is retried by kafkajs without committing the offset; an event that
 * cannot be applied at all is set aside (applyOrSetAside) rather than retried for ever.
 */
export class KafkaProjectionRunner {
  private readonly logger: Logger;
  private consumer?: Consumer;
  private running?: Promise<void>;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private wakeUp?: () => void;

  constructor(
    private readonly db: DataSource,
    private readonly kafka: Kafka,
    private readonly projection: KafkaProjection,
    private readonly options: { topic: string; groupPrefix: string },
  ) {
    this.logger = new Logger(`projection:${projection.name}`);
  }

  /**
   * Starts consuming in the background. A broker that is away at start-up is retried with back-off
   * until it answers; once running, kafkajs reconnects and rejoins the group by itself.
   */
  start(): void {
    this.stopped = false;
    this.running = this.connectWithRetry();
  }

  private async connectWithRetry(): Promise<void> {
    for (let backoffMs = 500; !this.stopped; backoffMs = Math.min(backoffMs * 2, 10_000)) {
      try {
        await this.run();
        return;
      } catch (error) {
        await this.consumer?.disconnect().catch(() => undefined);
        if (this.stopped) return;
        this.logger.warn(`not consuming yet, retrying in ${backoffMs} ms: ${String(error)}`);
        // Cut short by stop: a shutdown neither waits for it nor is kept alive by it.
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          this.retryTimer = setTimeout(resolve, backoffMs);
        });
      }
    }
  }

  private async run(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `${this.options.groupPrefix}.${this.projection.name}`,
      maxWaitTimeInMs: 500,
      // A member that vanished without leaving (a killed process) holds its partitions until its
      // session times out; keep that short so the group recovers, and joins, within seconds.
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await consumer.run({
      // Only what was applied is resolved (and committed): a batch cut short by a stop or a
      // rebalance leaves the rest for whoever consumes the partition next.
      eachBatchAutoResolve: false,
      // A batch at a time: one transaction per chunk of events, not per event (a busy API records
      // a sign-in event per verification; one transaction each could not keep up).
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (let start = 0; start < batch.messages.length; start += EVENTS_PER_TRANSACTION) {
          if (!isRunning() || isStale()) return;
          const chunk = batch.messages.slice(start, start + EVENTS_PER_TRANSACTION);
          const { setAside } = await applyOrSetAside(
            this.db,
            this.projection,
            chunk.flatMap((message) => this.read(message)),
          );
          for (const line of describeSetAside(setAside)) this.logger.error(line);
          resolveOffset(chunk[chunk.length - 1].offset);
          await heartbeat();
        }
      },
    });
  }

  private read(message: KafkaMessage): EventEnvelope[] {
    try {
      return [fromCloudEventMessage(message)];
    } catch {
      this.logger.warn(`skipped a message that is not a Latchkey CloudEvent (offset ${message.offset})`);
      return [];
    }
  }

  /**
   * Stops within `graceMs`: a consumer caught joining its group would otherwise hold a shutdown
   * until the rebalance ends; the broker then drops the member when its session times out.
   */
  async stop(graceMs = 3_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.wakeUp?.();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.running?.then(() => this.consumer?.disconnect()), deadline]).finally(() =>
      clearTimeout(timer),
    );
  }
}
