import { randomUUID } from 'node:crypto';
import type { PostgresEventStore } from '@latchkey/event-store';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { fromCloudEventMessage } from '../cloud-event';

/** One stream of the relay tests: events appended one at a time, and what the outbox still holds of it. */
export class TestStream {
  readonly streamId = `user-${randomUUID()}`;
  private version = 0;

  constructor(
    private readonly store: PostgresEventStore,
    private readonly db: DataSource,
  ) {}

  /** Appends `count` events, one per append, with `data` (by default `{n: version}`). */
  async append(count: number, data?: Record<string, unknown>): Promise<void> {
    for (let i = 0; i < count; i++) {
      await this.store.append({
        streamId: this.streamId,
        streamType: 'user',
        expectedVersion: this.version,
        events: [{ type: 'TestHappened', data: data ?? { n: this.version + 1 } }],
        context: { tenantId: randomUUID(), actor: { kind: 'system' }, occurredAt: new Date() },
      });
      this.version++;
    }
  }

  /** Events of this stream still in the outbox. */
  async unpublished(): Promise<number> {
    const [{ count }] = await this.db.query(
      `SELECT count(*)::int AS count FROM outbox o JOIN events e ON e.seq = o.event_seq
       WHERE e.stream_id = $1`,
      [this.streamId],
    );
    return count;
  }
}

/** Polls `check` every 100 ms until it holds; throws naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function createTopic(
  kafka: Kafka,
  topic: string,
  numPartitions: number,
  configEntries: { name: string; value: string }[] = [],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions, configEntries }], waitForLeaders: true });
  await admin.disconnect();
}

/**
 * Reads `topic` from its start with a fresh consumer group until `enough` holds of the versions of
 * `streamId` received, each event once however often it was sent (consumers drop re-sends by the
 * CloudEvent id), in the order they first arrived.
 */
export async function publishedVersions(
  kafka: Kafka,
  topic: string,
  streamId: string,
  enough: (versions: number[]) => boolean,
): Promise<number[]> {
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Set<string>();
  const versions: number[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const event = fromCloudEventMessage(message);
        if (event.streamId !== streamId || seen.has(event.id)) return;
        seen.add(event.id);
        versions.push(event.version);
        if (enough(versions)) resolve();
      },
    });
  });
  await consumer.disconnect();
  return versions;
}
