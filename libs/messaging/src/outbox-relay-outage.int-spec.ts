import { randomUUID } from 'node:crypto';
import { PostgresEventStore, type EventEnvelope } from '@latchkey/event-store';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { stack } from '../../../test/stack';
import { integrationConfig } from '../../../test/integration-config';
import { fromCloudEventMessage } from './cloud-event';
import { OutboxRelay } from './outbox-relay';
import { TestStream, until } from './testing/test-stream';

/** Fault: the broker goes away while commands keep appending. Nothing may be lost or reordered. */
describe('OutboxRelay across a Kafka outage (real broker stopped and started)', () => {
  const config = integrationConfig();
  const kafka = new Kafka({
    clientId: 'outage-test',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = `test-outage-${randomUUID()}`;
  let db: DataSource;
  let stream: TestStream;
  let relay: OutboxRelay;

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
    stream = new TestStream(new PostgresEventStore(db), db);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    relay = new OutboxRelay(db, kafka, (e: EventEnvelope) => e.data, {
      topic,
      idlePollMs: 20,
      maxBackoffMs: 1_000,
    });
    relay.start();
  });

  afterAll(async () => {
    stack('up', 'kafka');
    await relay?.stop();
    await db?.destroy();
  });

  it('publishes everything appended while the broker was down, once it is back, in order', async () => {
    await stream.append(5);
    await until('the first events to be published', async () => (await stream.unpublished()) === 0);

    stack('down', 'kafka');
    await stream.append(10);
    await new Promise((r) => setTimeout(r, 1_500)); // the relay fails and backs off meanwhile
    expect(await stream.unpublished()).toBe(10); // nothing deleted from the outbox that the broker did not take

    stack('up', 'kafka');
    await until('the backlog to be published', async () => (await stream.unpublished()) === 0);

    const seen = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: `outage-${randomUUID()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const versions: number[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const event = fromCloudEventMessage(message);
          if (event.streamId !== stream.streamId) return;
          seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
          if (seen.get(event.id) === 1) versions.push(event.version); // consumers drop re-sends by ce_id
          if (versions.length === 15) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(versions).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  }, 180_000);
});
