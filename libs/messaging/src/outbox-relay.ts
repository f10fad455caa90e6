import { Logger } from '@nestjs/common';
import { eventColumns, toEnvelope, type EventEnvelope, type EventRow } from '@latchkey/event-store';
import type { Kafka, Producer } from 'kafkajs';
import { AdvisoryLock } from '@latchkey/persistence';
import { describeFailure, PollingLoop } from '@latchkey/runtime';
import type { DataSource, QueryRunner } from 'typeorm';
import { toCloudEventMessage } from './cloud-event';
import { connectedClient, PRODUCER_CONFIG } from './kafka.client';

/** What of an event may leave PostgreSQL. Verifier hashes, for one, never reach Kafka. */
export type PublicView = (event: EventEnvelope) => unknown;

export interface OutboxRelayOptions {
  topic: string;
  batchSize?: number;
  idlePollMs?: number;
  /** Back-off after a failed publish or database error, doubling up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The active relay vacuums the outbox after deleting this many rows (see relayBatch). */
  vacuumEveryRows?: number;
}

const MAX_BATCH_BYTES = 512 * 1024;
/**
 * The most one event may take on the wire: Kafka's default limit on a record batch is 1,048,588
 * bytes (message.max.bytes), headers and framing included; this leaves room for those. A topic or
 * broker configured lower refuses less: see relayBatch.
 */
const MAX_EVENT_BYTES = 1_000_000;

// Any constant shared by every relay: the holder of this session lock is the one active relay.
const RELAY_LOCK = 7_406_245_002;

type PendingRow = EventRow & { outbox_seq: string };

/**
 * Publishes the outbox to Kafka in order, then deletes what was published. A publish that fails is
 * retried with back-off and nothing is deleted, so a broker outage loses nothing; a crash between
 * publish and delete re-sends a batch, which consumers drop by the CloudEvent id. Exactly one relay
 * is active among all processes: the one holding a PostgreSQL advisory lock on its own connection.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly options: Required<OutboxRelayOptions>;
  private producer?: Producer;
  private readonly lock: AdvisoryLock;
  private readonly loop: PollingLoop;
  private deletedSinceVacuum = 0;
  /**
   * After the broker refused a batch as too large, events are sent one at a time up to and
   * including this outbox position, so the one it cannot take is found and set aside.
   */
  private singlyThrough?: bigint;

  constructor(
    db: DataSource,
    private readonly kafka: Kafka,
    private readonly publicView: PublicView,
    options: OutboxRelayOptions,
  ) {
    this.options = {
      batchSize: 500,
      idlePollMs: 50,
      backoffMs: 200,
      maxBackoffMs: 5_000,
      vacuumEveryRows: 10_000,
      ...options,
    };
    this.lock = new AdvisoryLock(db, RELAY_LOCK);
    // A full batch means more is waiting: relay again at once.
    this.loop = new PollingLoop(
      async () => ((await this.acquireLock()) ? await this.relayBatch() : 0) >= this.options.batchSize,
      {
        ...this.options,
        onError: (error, pauseMs) =>
          this.logger.warn(`relay paused ${pauseMs} ms: ${describeFailure(error)}`),
      },
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.retireProducer();
    await this.releaseLock();
  }

  /** True while this instance holds the relay lock (for tests and /health). */
  get active(): boolean {
    return this.lock.connection !== undefined;
  }

  private async acquireLock(): Promise<boolean> {
    const outcome = await this.lock.tryAcquire();
    if (outcome === 'acquired') this.logger.log('this instance is the active outbox relay');
    return outcome !== 'taken';
  }

  private releaseLock(): Promise<void> {
    return this.lock.release();
  }

  private async relayBatch(): Promise<number> {
    // Read on the lock's own connection: if that connection died, so did the lock, and we must not
    // relay on without it.
    const runner = this.lock.connection!;
    let rows: PendingRow[];
    try {
      rows = await runner.query(
        `SELECT o.seq AS outbox_seq, ${eventColumns('e')}
         FROM outbox o JOIN events e ON e.seq = o.event_seq ORDER BY o.seq LIMIT $1`,
        [this.options.batchSize],
      );
    } catch (error) {
      await this.releaseLock();
      throw error;
    }
    if (rows.length === 0) return 0;

    // Kafka refuses a request over its size limit (1 MB by default): send at most MAX_BATCH_BYTES of
    // values at once, and always at least one event, so a few large events cannot stall the relay.
    // An event that alone is more than Kafka takes is set aside, in its place in the order.
    const singly = this.singlyThrough !== undefined && BigInt(rows[0].outbox_seq) <= this.singlyThrough;
    const messages = [];
    let bytes = 0;
    for (const row of rows) {
      const event = toEnvelope(row);
      const message = toCloudEventMessage(event, this.publicView(event));
      const size = messageBytes(message);
      if (size > MAX_EVENT_BYTES) {
        if (messages.length > 0) break; // what came before it goes first
        await this.setAside(runner, row, size, `over the ${MAX_EVENT_BYTES} Kafka takes in one message`);
        return 1;
      }
      bytes += size;
      if (messages.length > 0 && (bytes > MAX_BATCH_BYTES || singly)) break;
      messages.push(message);
    }
    const producer = await this.connectedProducer();
    try {
      await producer.send({ topic: this.options.topic, acks: -1, messages });
    } catch (error) {
      await this.retireProducer();
      // A topic (max.message.bytes) or broker configured below Kafka's default refuses less than
      // MAX_EVENT_BYTES, and refuses it again on every retry. Which event is too large, the broker
      // says only by refusing it alone: send this batch's events one at a time; the one refused
      // alone is set aside, in its place, like one over MAX_EVENT_BYTES.
      if (!isMessageTooLarge(error)) throw error;
      if (messages.length === 1) {
        await this.setAside(runner, rows[0], bytes, 'refused by the broker as too large (MESSAGE_TOO_LARGE)');
        return 1;
      }
      this.singlyThrough = BigInt(rows[messages.length - 1].outbox_seq);
      this.logger.warn(
        `the broker refused ${messages.length} events as too large; sending them one at a time`,
      );
      return 0;
    }
    // Published: the row goes (the events table is the record; the outbox holds only what is due).
    await runner.query(`DELETE FROM outbox WHERE seq = ANY($1::bigint[])`, [
      rows.slice(0, messages.length).map((r) => r.outbox_seq),
    ]);
    this.deletedSinceVacuum += messages.length;
    if (this.deletedSinceVacuum >= this.options.vacuumEveryRows) await this.vacuum(runner);
    return messages.length;
  }

  /**
   * Moves an event Kafka would refuse out of the outbox, loudly: every event after it would wait
   * for good behind it otherwise. No event type the domain writes grows that large (they are split);
   * reaching this is a bug to fix, and the error says which event.
   */
  private async setAside(runner: QueryRunner, row: PendingRow, bytes: number, why: string): Promise<void> {
    const reason = `${bytes} bytes on the wire, ${why}`;
    await runner.query(
      `WITH gone AS (DELETE FROM outbox WHERE seq = $1 RETURNING event_seq)
       INSERT INTO unpublishable_events (event_seq, bytes, reason) SELECT event_seq, $2, $3 FROM gone
       ON CONFLICT (event_seq) DO NOTHING`,
      [row.outbox_seq, bytes, reason],
    );
    this.logger.error(
      `set aside event ${row.id} (${row.type}, ${row.stream_id} v${row.version}) in unpublishable_events: ${reason}`,
    );
  }

  /**
   * The outbox is a queue: every row is inserted and soon deleted, and each read starts at its
   * oldest end, stepping over every dead row not yet vacuumed. Autovacuum may be off (it is on the
   * machine the tests run on) or a minute behind (its naptime): at 3,000 sign-ins/s that is 180,000
   * dead rows, and one read took 15-24 ms over 7,000 index pages where it takes well under one on a
   * vacuumed table. So the active relay vacuums the outbox itself, which is cheap while it is small.
   * Without truncating: giving the emptied end of the table back to the file system takes an
   * exclusive lock, which VACUUM keeps trying for up to 5 s while writers keep inserting, and this
   * relay published nothing meanwhile (a creation bench's outbox-to-Kafka lag jumped to 5.1 s). A
   * failed vacuum is reported and relaying goes on.
   */
  private async vacuum(runner: QueryRunner): Promise<void> {
    this.deletedSinceVacuum = 0;
    try {
      await runner.query('VACUUM (TRUNCATE false) outbox');
    } catch (error) {
      this.logger.warn(`could not vacuum the outbox: ${describeFailure(error)}`);
    }
  }

  /**
   * After a failed send, the broker may still have written that batch (it timed out on the wire, the
   * broker froze, the connection dropped after the write). kafkajs advances an idempotent producer's
   * sequence numbers only on an answer, so the next batch, which starts with the same events and
   * usually holds more, would reuse sequence numbers the broker already holds and be refused as out
   * of order, again on every retry. A new producer gets a new producer id and starts its sequence
   * afresh; what the broker had written is sent again and dropped by consumers (by the CloudEvent id).
   */
  private async retireProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      this.producer = await connectedClient(this.kafka.producer(PRODUCER_CONFIG));
    }
    return this.producer;
  }
}

/** Whether kafkajs failed a send because the broker refused a message as too large. */
function isMessageTooLarge(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if ((e as { type?: unknown }).type === 'MESSAGE_TOO_LARGE') return true;
  }
  return false;
}

/** A message's size as Kafka counts it, near enough: key, value and headers. */
function messageBytes(message: ReturnType<typeof toCloudEventMessage>): number {
  let bytes = Buffer.byteLength(String(message.key ?? '')) + Buffer.byteLength(String(message.value ?? ''));
  for (const [name, value] of Object.entries(message.headers ?? {}))
    bytes += Buffer.byteLength(name) + Buffer.byteLength(String(value ?? ''));
  return bytes;
}
