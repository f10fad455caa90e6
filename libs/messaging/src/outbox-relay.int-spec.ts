import { randomUUID } from 'node:crypto';
import { PostgresEventStore, type EventEnvelope } from '@latchkey/event-store';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../test/integration-config';
import { fromCloudEventMessage } from './cloud-event';
import { OutboxRelay } from './outbox-relay';
import { createTopic, publishedVersions, TestStream } from './testing/test-stream';

describe('OutboxRelay (real PostgreSQL and Kafka)', () => {
  const config = integrationConfig();
  const kafka = new Kafka({
    clientId: 'outbox-relay-test',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = `test-outbox-${randomUUID()}`;
  // Secret material stays in PostgreSQL: the relay publishes only this view of an event.
  const publicView = (event: EventEnvelope) => {
    const { verifier: _secret, ...rest } = event.data as Record<string, unknown>;
    return rest;
  };
  let db: DataSource;
  let store: PostgresEventStore;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
    store = new PostgresEventStore(db);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
  });

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await db?.destroy();
  });

  it('publishes every appended event as a keyed CloudEvent, in stream order, without secrets, exactly one relay active', async () => {
    const streams = [`user-${randomUUID()}`, `user-${randomUUID()}`];
    for (let version = 0; version < 5; version++) {
      for (const streamId of streams) {
        await store.append({
          streamId,
          streamType: 'user',
          expectedVersion: version,
          events: [{ type: 'AppPasswordCreated', data: { n: version, verifier: 'hmac-of-a-secret' } }],
          context: { tenantId: randomUUID(), actor: { kind: 'user' }, occurredAt: new Date() },
        });
      }
    }

    const vacuums = async (): Promise<number> =>
      (await db.query(`SELECT vacuum_count::int AS n FROM pg_stat_user_tables WHERE relname = 'outbox'`))[0]
        .n;
    const vacuumsBefore = await vacuums();
    // Ten events: the active relay vacuums the outbox at least once (it deletes what it published).
    const relayOptions = { topic, idlePollMs: 20, vacuumEveryRows: 5 };
    relays.push(
      new OutboxRelay(db, kafka, publicView, relayOptions),
      new OutboxRelay(db, kafka, publicView, relayOptions),
    );
    relays.forEach((r) => r.start());

    const received = new Map<string, EventEnvelope[]>();
    const raw: { key: string; value: string }[] = [];
    const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const event = fromCloudEventMessage(message);
          if (!streams.includes(event.streamId)) return;
          raw.push({ key: String(message.key), value: String(message.value) });
          received.set(event.streamId, [...(received.get(event.streamId) ?? []), event]);
          if (streams.every((s) => received.get(s)?.length === 5)) resolve();
        },
      });
    });
    await all;
    await consumer.disconnect();

    expect(raw.filter((m) => m.value.includes('hmac-of-a-secret'))).toEqual([]);
    expect(raw.every((m) => streams.includes(m.key))).toBe(true);
    for (const streamId of streams) {
      expect(received.get(streamId)!.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
      expect(received.get(streamId)!.map((e) => e.data)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    }
    expect(relays.filter((r) => r.active)).toHaveLength(1);

    const [{ pending }] = await db.query(
      `SELECT count(*)::int AS pending FROM outbox o JOIN events e ON e.seq = o.event_seq
       WHERE e.stream_id = ANY($1)`,
      [streams],
    );
    expect(pending).toBe(0);
    let vacuumsAfter = await vacuums();
    for (const deadline = Date.now() + 10_000; vacuumsAfter <= vacuumsBefore && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      vacuumsAfter = await vacuums();
    }
    expect(vacuumsAfter).toBeGreaterThan(vacuumsBefore);
  }, 60_000);
  it('sets aside an event larger than Kafka takes, loudly, and publishes everything after it in order', async () => {
    if (relays.length === 0) {
      // Run on its own: the first test's relays are running otherwise.
      relays.push(new OutboxRelay(db, kafka, publicView, { topic, idlePollMs: 20 }));
      relays[0].start();
    }
    const stream = new TestStream(store, db);
    for (const size of [10, 1_200_000, 10]) await stream.append(1, { padding: 'x'.repeat(size) });
    // The middle one is more than Kafka's 1 MB message limit.
    const versions = await publishedVersions(kafka, topic, stream.streamId, (seen) => seen.includes(3));
    expect(versions).toEqual([1, 3]);
    const setAside = await db.query(
      `SELECT e.version, u.bytes FROM unpublishable_events u JOIN events e ON e.seq = u.event_seq
       WHERE e.stream_id = $1`,
      [stream.streamId],
    );
    expect(setAside).toEqual([{ version: 2, bytes: expect.any(Number) }]);
    expect(setAside[0].bytes).toBeGreaterThan(1_200_000);
  }, 60_000);

  it("sets aside an event a topic configured below Kafka's default refuses, and publishes the rest in order", async () => {
    // This test's relay alone, on a topic that takes record batches of at most 50,000 bytes.
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    const smallTopic = `test-outbox-small-${randomUUID()}`;
    await createTopic(kafka, smallTopic, 1, [{ name: 'max.message.bytes', value: '50000' }]);
    relays.push(new OutboxRelay(db, kafka, publicView, { topic: smallTopic, idlePollMs: 20 }));
    relays[0].start();
    const stream = new TestStream(store, db);
    // Together, more than the topic takes in one batch; one by one, all but the fourth fit.
    for (const size of [10, 30_000, 30_000, 80_000, 10])
      await stream.append(1, { padding: 'x'.repeat(size) });

    const versions = await publishedVersions(kafka, smallTopic, stream.streamId, (seen) => seen.includes(5));
    expect(versions).toEqual([1, 2, 3, 5]);
    const setAside = await db.query(
      `SELECT e.version, u.reason FROM unpublishable_events u JOIN events e ON e.seq = u.event_seq
       WHERE e.stream_id = $1`,
      [stream.streamId],
    );
    expect(setAside).toEqual([{ version: 4, reason: expect.stringContaining('MESSAGE_TOO_LARGE') }]);
    expect(await stream.unpublished()).toBe(0);
  }, 60_000);
});
