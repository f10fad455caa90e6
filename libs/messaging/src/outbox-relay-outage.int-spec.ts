import { randomUUID } from 'node:crypto';
import { PostgresEventStore, type EventEnvelope } from '@latchkey/event-store';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { stack } from '../../../test/stack';
import { integrationConfig } from '../../../test/integration-config';
import { OutboxRelay } from './outbox-relay';
import { createTopic, publishedVersions, TestStream, until } from './testing/test-stream';

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
    await createTopic(kafka, topic, 3);
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

    const versions = await publishedVersions(kafka, topic, stream.streamId, (seen) => seen.length === 15);
    expect(versions).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  }, 180_000);
});
