import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { integrationConfig } from '../../../test/integration-config';
import { ConcurrencyError, type AppendContext } from './event-envelope';
import { PostgresEventStore } from './postgres-event-store';

describe('PostgresEventStore (real PostgreSQL)', () => {
  const config = integrationConfig();
  let db: DataSource;
  let store: PostgresEventStore;
  const context: AppendContext = {
    tenantId: randomUUID(),
    actor: { kind: 'system' },
    occurredAt: new Date('2026-03-03T14:02:00Z'),
    correlationId: randomUUID(),
  };
  const stream = () => `test-${randomUUID()}`;
  const happened = (n: number) => ({ type: 'TestHappened', data: { n } });

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
    store = new PostgresEventStore(db);
  });
  afterAll(() => db?.destroy());

  it('appends to a new stream and reads the events back with their envelope', async () => {
    const id = stream();
    const stored = await store.append({
      streamId: id,
      streamType: 'test',
      expectedVersion: 0,
      events: [happened(1), happened(2)],
      context,
    });
    expect(stored.map((e) => e.version)).toEqual([1, 2]);
    expect(stored[1].seq).toBeGreaterThan(stored[0].seq);

    const read = await store.readStream(id);
    expect(read).toEqual(stored);
    expect(read[0]).toMatchObject({
      type: 'TestHappened',
      schemaVersion: 1,
      tenantId: context.tenantId,
      actor: { kind: 'system' },
      correlationId: context.correlationId,
      data: { n: 1 },
      occurredAt: context.occurredAt,
    });
    const outbox = await db.query(`SELECT event_seq FROM outbox WHERE event_seq = ANY($1::bigint[])`, [
      stored.map((e) => e.seq.toString()),
    ]);
    expect(outbox).toHaveLength(2);
  });

  it('refuses an append at a stale version, and a second creation of the same stream', async () => {
    const id = stream();
    await store.append({
      streamId: id,
      streamType: 'test',
      expectedVersion: 0,
      events: [happened(1)],
      context,
    });
    await expect(
      store.append({ streamId: id, streamType: 'test', expectedVersion: 0, events: [happened(2)], context }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    await store.append({
      streamId: id,
      streamType: 'test',
      expectedVersion: 1,
      events: [happened(2)],
      context,
    });
    await expect(
      store.append({ streamId: id, streamType: 'test', expectedVersion: 1, events: [happened(3)], context }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await store.readStream(id)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    // A refused append leaves no trace: the stream's version, its events and their outbox rows.
    const [{ version, queued }] = await db.query(
      `SELECT s.version, (SELECT count(*)::int FROM outbox o JOIN events e ON e.seq = o.event_seq
                            WHERE e.stream_id = s.id) AS queued
       FROM streams s WHERE s.id = $1`,
      [id],
    );
    expect({ version, queued }).toEqual({ version: 2, queued: 2 });
  });

  it('appends several events at once with "any", numbering them after whatever the stream holds', async () => {
    const id = stream();
    const first = await store.append({
      streamId: id,
      streamType: 'test',
      expectedVersion: 'any',
      events: [happened(1), happened(2)],
      context,
    });
    const second = await store.append({
      streamId: id,
      streamType: 'test',
      expectedVersion: 'any',
      events: [happened(3), happened(4), happened(5)],
      context,
    });
    expect([...first, ...second].map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    expect(second.map((e) => e.data)).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }]);
    // The global order follows the stream's order within one append.
    expect(second.map((e) => e.seq)).toEqual([...second.map((e) => e.seq)].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('lets exactly one of many concurrent writers at the same version win', async () => {
    const id = stream();
    await store.append({
      streamId: id,
      streamType: 'test',
      expectedVersion: 0,
      events: [happened(0)],
      context,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.append({
          streamId: id,
          streamType: 'test',
          expectedVersion: 1,
          events: [happened(i)],
          context,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.every((r) => r.reason instanceof ConcurrencyError)).toBe(true);
    expect(await store.readStream(id)).toHaveLength(2);
  });

  it('rolls back events, stream version and outbox together when an inline projection fails', async () => {
    const id = stream();
    await expect(
      store.append({
        streamId: id,
        streamType: 'test',
        expectedVersion: 0,
        events: [happened(1)],
        context,
        inline: async () => {
          throw new Error('projection refused');
        },
      }),
    ).rejects.toThrow('projection refused');
    expect(await store.readStream(id)).toEqual([]);
    expect(await db.query(`SELECT 1 FROM streams WHERE id = $1`, [id])).toEqual([]);
  });

  it('never lets a tailing reader skip an event whose transaction commits late', async () => {
    const [{ max }] = await db.query(`SELECT coalesce(max(seq), 0)::text AS max FROM events`);
    const from = BigInt(max);
    const slowId = stream();
    const fastId = stream();

    // The slow writer takes its sequence first and holds its transaction open.
    const slow = db.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    await slow.query(`INSERT INTO streams (id, type, version) VALUES ($1, 'test', 1)`, [slowId]);
    await slow.query(
      `INSERT INTO events (id, stream_id, version, type, actor, data, occurred_at)
       VALUES ($1, $2, 1, 'TestHappened', '{"kind":"system"}', '{"slow":true}', now())`,
      [randomUUID(), slowId],
    );
    // A later writer commits first, with a higher sequence.
    await store.append({
      streamId: fastId,
      streamType: 'test',
      expectedVersion: 0,
      events: [happened(1)],
      context,
    });

    const mine = (events: { streamId: string }[]) =>
      events.filter((e) => e.streamId === slowId || e.streamId === fastId).map((e) => e.streamId);
    // Reading past the fast event now would move a checkpoint beyond the slow one: it must wait.
    expect(mine(await store.readAll(from))).toEqual([]);

    await slow.commitTransaction();
    await slow.release();
    // Both, in sequence order, as soon as no older transaction is in flight anywhere on the server
    // (the snapshot's xmin is cluster-wide: another database's open transaction delays it too).
    let seen: string[] = [];
    for (const deadline = Date.now() + 10_000; seen.length < 2 && Date.now() < deadline;) {
      seen = mine(await store.readAll(from));
      if (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen).toEqual([slowId, fastId]);
  });

  it('on a held connection, appends as one prepared statement and still refuses a stale version', async () => {
    const held = db.createQueryRunner();
    await held.connect();
    try {
      const id = stream();
      const append = (expectedVersion: number | 'any', n: number) =>
        store.append(
          { streamId: id, streamType: 'test', expectedVersion, events: [happened(n)], context },
          held,
        );
      await append(0, 1);
      await append('any', 2);
      await append('any', 3);
      expect((await store.readStream(id)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      // The two "any" appends share one statement, parsed and planned once on this connection.
      const prepared: { statement: string }[] = await held.query(
        `SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%ON CONFLICT (id) DO UPDATE%'`,
      );
      expect(prepared).toHaveLength(1);
      await expect(append(1, 4)).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.readStream(id)).toHaveLength(3);
    } finally {
      await held.release();
    }
  });
});
