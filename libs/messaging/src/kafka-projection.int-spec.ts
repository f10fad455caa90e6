import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@latchkey/event-store';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource, type EntityManager } from 'typeorm';
import { integrationConfig } from '../../../test/integration-config';
import { toCloudEventMessage } from './cloud-event';
import { applyOnce, applyOrSetAside, KafkaProjectionRunner, type KafkaProjection } from './kafka-projection';

describe('a Kafka-fed projection that meets an event it cannot apply (real PostgreSQL and broker)', () => {
  const config = integrationConfig();
  const kafka = new Kafka({
    clientId: 'projection-test',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  const TABLE = 'test_projection_rows';
  let db: DataSource;

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (stream_id text, version integer, PRIMARY KEY (stream_id, version))`,
    );
  });
  afterAll(() => db?.destroy());

  const event = (streamId: string, version: number, data: Record<string, unknown> = {}): EventEnvelope => ({
    seq: BigInt(version),
    id: randomUUID(),
    streamId,
    version,
    type: 'Counted',
    schemaVersion: 1,
    tenantId: null,
    actor: { kind: 'system' },
    causationId: null,
    correlationId: null,
    data,
    occurredAt: new Date(),
    recordedAt: new Date(),
  });

  /** Writes a row per event; an event marked `poison` meets a bug (a TypeError, as a real one would). */
  const projection = (name: string, before?: (tx: EntityManager) => Promise<void>): KafkaProjection => ({
    name,
    handles: (type) => type === 'Counted',
    async apply(tx, events) {
      await before?.(tx);
      for (const e of events) {
        if ((e.data as { poison?: boolean }).poison)
          (e.data as { missing: { field: string } }).missing.field.trim();
        await tx.query(`INSERT INTO ${TABLE} VALUES ($1, $2)`, [e.streamId, e.version]);
      }
    },
  });

  const rows = async (streamId: string) =>
    (await db.query(`SELECT version FROM ${TABLE} WHERE stream_id = $1 ORDER BY version`, [streamId])).map(
      (r: { version: number }) => r.version,
    );
  const deadLetters = (name: string) =>
    db.query(
      `SELECT stream_id, version, event_type, error FROM projection_dead_letters WHERE projection = $1`,
      [name],
    );
  const position = async (name: string, streamId: string) =>
    (
      await db.query(
        `SELECT version FROM projection_stream_positions WHERE projection = $1 AND stream_id = $2`,
        [name, streamId],
      )
    )[0]?.version;

  it('sets aside the one event that fails on its own, with its error, and applies the rest of the topic', async () => {
    const name = `test-poison-${randomUUID()}`;
    const stream = `stream-${randomUUID()}`;
    const topic = `test-poison-${randomUUID()}`;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = (events: EventEnvelope[]) =>
      producer.send({ topic, messages: events.map((e) => toCloudEventMessage(e, e.data)) });
    await send([event(stream, 1), event(stream, 2, { poison: true }), event(stream, 3)]);

    const runner = new KafkaProjectionRunner(db, kafka, projection(name), {
      topic,
      groupPrefix: `test-${randomUUID()}`,
    });
    runner.start();
    try {
      const until = async (versions: number[]) => {
        for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
          if (JSON.stringify(await rows(stream)) === JSON.stringify(versions)) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`rows never became ${versions.join(', ')}: ${(await rows(stream)).join(', ')}`);
      };
      await until([1, 3]);
      // The consumer is still running: what comes later is applied too.
      await send([event(stream, 4)]);
      await until([1, 3, 4]);
    } finally {
      await runner.stop();
      await producer.disconnect();
    }
    expect(await deadLetters(name)).toEqual([
      { stream_id: stream, version: 2, event_type: 'Counted', error: expect.stringMatching(/^TypeError: /) },
    ]);
    expect(await position(name, stream)).toBe(4);
  }, 60_000);

  it('retries a chunk that failed for a transient reason, and never sets its events aside', async () => {
    const name = `test-transient-${randomUUID()}`;
    const stream = `stream-${randomUUID()}`;
    // The projection waits at most 50 ms for a lock that another session holds for a while: a real
    // lock_timeout (55P03) from PostgreSQL, which says nothing about the events.
    const blocked = projection(name, async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '50ms'`);
      await tx.query(`LOCK TABLE ${TABLE} IN SHARE ROW EXCLUSIVE MODE`);
    });
    const holder = db.createQueryRunner();
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${TABLE} IN ACCESS EXCLUSIVE MODE`);
    const events = [event(stream, 1), event(stream, 2)];
    await expect(applyOrSetAside(db, blocked, events)).rejects.toMatchObject({
      driverError: { code: '55P03' },
    });
    await holder.query('COMMIT');
    await holder.release();
    expect(await deadLetters(name)).toEqual([]);
    expect(await applyOrSetAside(db, blocked, events)).toEqual({ applied: 2, setAside: [] });
    expect(await rows(stream)).toEqual([1, 2]);
  });

  it('a repeated event is neither applied twice nor set aside twice', async () => {
    const name = `test-repeat-${randomUUID()}`;
    const stream = `stream-${randomUUID()}`;
    const events = [event(stream, 1), event(stream, 2, { poison: true }), event(stream, 3)];
    const first = await applyOrSetAside(db, projection(name), events);
    expect(first).toMatchObject({ applied: 2, setAside: [{ streamId: stream, version: 2 }] });
    expect(await applyOrSetAside(db, projection(name), events)).toEqual({ applied: 0, setAside: [] });
    expect(await rows(stream)).toEqual([1, 3]);
    expect(await deadLetters(name)).toHaveLength(1);
  });
  it("two consumers given a stream's first events at once (a rebalance) apply them once", async () => {
    const stream = `stream-${randomUUID()}`;
    const applied: number[] = [];
    const slow: KafkaProjection = {
      name: `test-race-${randomUUID()}`,
      handles: (type) => type === 'Counted',
      async apply(tx, events) {
        await tx.query('SELECT pg_sleep(0.3)'); // the other consumer reads the position meanwhile
        applied.push(...events.map((e) => e.version));
      },
    };
    const events = [event(stream, 1), event(stream, 2)];
    const counts = await Promise.all([applyOnce(db, slow, events), applyOnce(db, slow, events)]);
    expect(applied).toEqual([1, 2]);
    expect(counts.sort()).toEqual([0, 2]);
  });
});
