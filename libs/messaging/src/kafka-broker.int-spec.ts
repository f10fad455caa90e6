/**
 * Integration proof: the stack's Kafka broker (stack/kafka.sh) works with kafkajs 2.2.4 for what
 * Latchkey relies on — topic admin, an idempotent producer, consumer groups, committed offsets.
 *
 * Needs a running broker: `stack up kafka` (or kafka_up), address in KAFKA_BROKERS (default 127.0.0.1:9092).
 * Every run uses its own topic and group, so runs never see each other's data.
 */
import { randomUUID } from 'node:crypto';
import {
  Admin,
  Consumer,
  EachMessagePayload,
  Kafka,
  logLevel,
  Partitioners,
  Producer,
  RequestEvent,
} from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const runId = randomUUID();
const topic = `latchkey-proof-${runId}`;
const groupId = `latchkey-proof-group-${runId}`;
const PARTITIONS = 3;
const KEYS = ['door-1', 'door-2', 'door-3', 'door-4'];
const STEP_TIMEOUT_MS = 30_000;
// Short fetch long-poll: disconnect() waits for the fetch in flight, 5 s with kafkajs' default.
const consumerConfig = { groupId, maxWaitTimeInMs: 500 };

interface Received {
  key: string;
  seq: number;
  partition: number;
  offset: number; // int64 on the wire; a fresh test topic stays far below 2^53
  producerId: string;
}

/** Keyed messages `key:seq` for seq in [from, to), interleaved across keys like real traffic. */
function messages(from: number, to: number): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (let seq = from; seq < to; seq++) for (const key of KEYS) out.push({ key, value: `${key}:${seq}` });
  return out;
}

/** kafkajs keeps the record batch header (producer id, epoch, sequence) on each message, untyped. */
function producerIdOf(message: EachMessagePayload['message']): string {
  const ctx = (message as unknown as { batchContext?: { producerId?: string } }).batchContext;
  return ctx?.producerId ?? 'none';
}

/**
 * Runs a group consumer from the beginning of the topic (so only committed offsets can make it skip
 * anything) until `count` messages arrived, or fails after STEP_TIMEOUT_MS.
 */
async function consumeInGroup(consumer: Consumer, count: number): Promise<Received[]> {
  const received: Received[] = [];
  let done!: () => void;
  const enough = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false, // the test commits explicitly, so it knows exactly what was committed
    eachMessage: async ({ partition, message }) => {
      const [key, seq] = String(message.value).split(':');
      received.push({
        key,
        seq: Number(seq),
        partition,
        offset: Number(message.offset),
        producerId: producerIdOf(message),
      });
      if (received.length >= count) done();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`got ${received.length} of ${count} messages in ${STEP_TIMEOUT_MS} ms`)),
      STEP_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([enough, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return received;
}

/** Per key: sequence numbers strictly increasing, all on one partition, offsets increasing. */
function expectInOrderPerKey(received: Received[]): void {
  for (const key of KEYS) {
    const mine = received.filter((r) => r.key === key);
    const seqs = mine.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
    for (let i = 1; i < mine.length; i++) expect(mine[i].offset > mine[i - 1].offset).toBe(true);
  }
}

/** The offset after the last message read on each partition: what the group should resume from. */
function nextOffsets(received: Received[]): Map<number, number> {
  const next = new Map<number, number>();
  for (const r of received) next.set(r.partition, Math.max(next.get(r.partition) ?? 0, r.offset + 1));
  return next;
}

describe('stack Kafka broker with kafkajs 2.2.4', () => {
  const kafka = new Kafka({
    clientId: 'latchkey-broker-proof',
    brokers,
    logLevel: logLevel.ERROR,
  });
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];
  const producerRequests: RequestEvent['payload'][] = [];
  let committed = new Map<number, number>();
  let topicDeleted = false;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    producer.on(producer.events.REQUEST, (e: RequestEvent) => producerRequests.push(e.payload));
  }, STEP_TIMEOUT_MS);

  // Safety net when a test failed half-way; the last test deletes the topic itself.
  afterAll(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await producer?.disconnect().catch(() => undefined);
    if (admin) {
      if (!topicDeleted)
        await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => undefined);
      await admin.disconnect();
    }
  }, STEP_TIMEOUT_MS);

  it(
    'creates a topic with the admin client (CreateTopics) and sees all its partitions',
    async () => {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      expect(created).toBe(true);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(PARTITIONS);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'idempotent producer gets a producer id (InitProducerId) and its keyed sends are acknowledged',
    async () => {
      await producer.connect();
      const acks = await producer.send({ topic, messages: messages(0, 5) });

      expect(producerRequests.some((r) => r.apiName === 'InitProducerId')).toBe(true);
      // Idempotent batches need the v2 record format, i.e. Produce v3 or newer.
      const produceVersions = producerRequests
        .filter((r) => r.apiName === 'Produce')
        .map((r) => r.apiVersion);
      expect(produceVersions.length).toBeGreaterThan(0);
      expect(Math.min(...produceVersions)).toBeGreaterThanOrEqual(3);
      expect(acks.every((a) => a.errorCode === 0)).toBe(true);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'a consumer in a group reads every message in order per key, stamped with the producer id, and commits',
    async () => {
      const consumer = kafka.consumer(consumerConfig);
      consumers.push(consumer);
      const expected = messages(0, 5);
      const received = await consumeInGroup(consumer, expected.length);

      expect(received.map((r) => `${r.key}:${r.seq}`).sort()).toEqual(expected.map((m) => m.value).sort());
      expectInOrderPerKey(received);
      // The broker stored the batches under one real producer id (non-idempotent batches carry -1).
      const producerIds = new Set(received.map((r) => r.producerId));
      expect(producerIds.size).toBe(1);
      expect(Number([...producerIds][0])).toBeGreaterThanOrEqual(0);

      committed = nextOffsets(received);
      await consumer.commitOffsets(
        [...committed].map(([partition, offset]) => ({ topic, partition, offset: offset.toString() })),
      );
      const stored = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const p of stored[0].partitions) {
        expect(Number(p.offset)).toBe(committed.get(p.partition) ?? -1);
      }
      await consumer.disconnect();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'a new consumer in the same group resumes after the committed offsets: only new messages, none of the old',
    async () => {
      const fresh = messages(5, 8);
      await producer.send({ topic, messages: fresh });

      const consumer = kafka.consumer(consumerConfig);
      consumers.push(consumer);
      const received = await consumeInGroup(consumer, fresh.length);

      expect(received.map((r) => `${r.key}:${r.seq}`).sort()).toEqual(fresh.map((m) => m.value).sort());
      expect(received.every((r) => r.seq >= 5)).toBe(true);
      expectInOrderPerKey(received);
      // On each partition the first message read is exactly the committed offset.
      for (const [partition, offset] of committed) {
        const first = received.filter((r) => r.partition === partition).map((r) => r.offset);
        if (first.length > 0) expect(Math.min(...first)).toBe(offset);
      }
      await consumer.disconnect();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'deletes the test topic with the admin client (DeleteTopics)',
    async () => {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
      topicDeleted = true;
      expect(await admin.listTopics()).not.toContain(topic);
    },
    STEP_TIMEOUT_MS,
  );
});
