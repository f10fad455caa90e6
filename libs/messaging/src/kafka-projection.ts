import { Logger } from '@nestjs/common';
import type { EventEnvelope } from '@latchkey/event-store';
import type { Consumer, Kafka } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { fromCloudEventMessage } from './cloud-event';

/** A read model fed from the events topic. `apply` runs in a transaction with the position update. */
export interface KafkaProjection {
  readonly name: string;
  handles(type: string): boolean;
  apply(tx: EntityManager, event: EventEnvelope): Promise<void>;
}

/**
 * Applies a projection idempotently: the stream's last applied version is kept beside the read
 * model and moved in the same transaction, so a re-sent or replayed event changes nothing.
 * Returns whether the event was applied.
 */
export async function applyOnce(
  db: DataSource,
  projection: KafkaProjection,
  event: EventEnvelope,
): Promise<boolean> {
  if (!projection.handles(event.type)) return false;
  return db.transaction(async (tx) => {
    const moved = await tx.query(
      `INSERT INTO projection_stream_positions (projection, stream_id, version) VALUES ($1, $2, $3)
       ON CONFLICT (projection, stream_id) DO UPDATE SET version = EXCLUDED.version
         WHERE projection_stream_positions.version < EXCLUDED.version
       RETURNING version`,
      [projection.name, event.streamId, event.version],
    );
    if (moved.length === 0) return false;
    await projection.apply(tx, event);
    return true;
  });
}

/**
 * Runs one projection as a Kafka consumer group (`<prefix>.<name>`): several processes share the
 * partitions, and a failed apply is retried by kafkajs without committing the offset.
 */
export class KafkaProjectionRunner {
  private readonly logger: Logger;
  private consumer?: Consumer;
  private running?: Promise<void>;
  private stopped = false;

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
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
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
      eachMessage: async ({ message }) => {
        let event: EventEnvelope;
        try {
          event = fromCloudEventMessage(message);
        } catch {
          this.logger.warn(`skipped a message that is not a Latchkey CloudEvent (offset ${message.offset})`);
          return;
        }
        await applyOnce(this.db, this.projection, event);
      },
    });
  }

  /**
   * Stops within `graceMs`: a consumer caught joining its group would otherwise hold a shutdown
   * until the rebalance ends; the broker then drops the member when its session times out.
   */
  async stop(graceMs = 3_000): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.running?.then(() => this.consumer?.disconnect()), deadline]).finally(() =>
      clearTimeout(timer),
    );
  }
}
