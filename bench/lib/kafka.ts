import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { ParsedConfig } from '@latchkey/config';

export function benchKafka(config: ParsedConfig): Kafka {
  return new Kafka({
    clientId: `${config.kafka.clientId}-runner`,
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
  });
}

/**
 * Messages not yet consumed on the events topic, per consumer group of this deployment (groups named
 * `<KAFKA_CLIENT_ID>.…`, as the API's read-model consumers are). Empty when there are none.
 */
export async function consumerLag(config: ParsedConfig, kafka: Kafka): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = config.kafka.eventsTopic;
    const prefix = `${config.kafka.clientId}.`;
    const { groups } = await admin.listGroups();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p]));
    const lag = new Map<string, number>();
    for (const { groupId } of groups.filter((g) => g.groupId.startsWith(prefix))) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      let behind = 0;
      for (const { partition, offset } of offsets?.partitions ?? []) {
        const end = ends.get(partition);
        if (!end) continue;
        const committed = Number(offset) < 0 ? Number(end.low) : Number(offset);
        behind += Number(end.high) - committed;
      }
      lag.set(groupId.slice(prefix.length), behind);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

export interface LagSample {
  /** ce_id: a re-sent event counts once. */
  id: string;
  subject: string;
  /** The event's data, as published. */
  data: unknown;
  recordedAt: number;
  consumedAt: number;
}

/**
 * A consumer in the bench's own process and group, reading the events topic from the end: for each
 * event it keeps (filtered by its CloudEvent headers) it notes when it was consumed, beside the
 * `ce_recordedtime` header (the events table's recorded_at: clock_timestamp() inside the appending
 * transaction). consumedAt − recordedAt is the outbox-to-Kafka lag, on the same machine's clock.
 */
export class LagProbe {
  readonly samples = new Map<string, LagSample>();
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
    private readonly keep: (headers: Record<string, string>) => boolean,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, sessionTimeout: 10_000 });
  }

  /**
   * Resolves once the group has joined and a fetch has come back: from then on the consumer's offsets
   * (the topic's end at the join) are resolved and new events reach it at once.
   */
  async start(boundMs = 60_000): Promise<void> {
    const joined = new Promise<void>((resolve) =>
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve()),
    );
    const fetched = new Promise<void>((resolve) =>
      this.consumer.on(this.consumer.events.FETCH, () => resolve()),
    );
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        const consumedAt = Date.now();
        for (const message of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (value !== undefined) headers[name] = String(Array.isArray(value) ? value[0] : value);
          }
          if (!this.keep(headers) || this.samples.has(headers.ce_id)) continue;
          this.samples.set(headers.ce_id, {
            id: headers.ce_id,
            subject: headers.ce_subject,
            data: message.value ? JSON.parse(message.value.toString('utf8')) : null,
            recordedAt: Date.parse(headers.ce_recordedtime),
            consumedAt,
          });
        }
      },
    });
    const bound = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the lag probe did not start consuming')), boundMs).unref(),
    );
    await Promise.race([joined.then(() => fetched), bound]);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
