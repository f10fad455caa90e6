import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../test/integration-config';
import { dataSourceOptions } from './data-source.options';
import { migrate } from './migrate';

describe('PostgreSQL through TypeORM (real server)', () => {
  const config = integrationConfig();
  let db: DataSource;

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
  });
  afterAll(() => db?.destroy());

  const streamId = () => `test-${randomUUID()}`;
  const insertEvent = (runner: { query: DataSource['query'] }, stream: string, version: number) =>
    runner.query(
      `INSERT INTO events (id, stream_id, version, type, actor, data, occurred_at)
       VALUES ($1, $2, $3, 'TestHappened', '{"kind":"system"}', '{}', now())`,
      [randomUUID(), stream, version],
    );

  it('migrations leave nothing pending and a second run applies nothing', async () => {
    expect(await db.showMigrations()).toBe(false);
    expect(await migrate(config)).toEqual([]);
    const tables = await db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual(
      expect.arrayContaining(['events', 'outbox', 'projection_checkpoints', 'streams']),
    );
  });

  it('a committed transaction writes the stream and its event together', async () => {
    const stream = streamId();
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO streams (id, type, version) VALUES ($1, 'test', 1)`, [stream]);
      await insertEvent(tx, stream, 1);
    });
    const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM events WHERE stream_id = $1`, [
      stream,
    ]);
    expect(count).toBe(1);
  });

  it('a failed transaction leaves nothing behind', async () => {
    const stream = streamId();
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO streams (id, type, version) VALUES ($1, 'test', 1)`, [stream]);
        await insertEvent(tx, stream, 1);
        throw new Error('abort after the writes');
      }),
    ).rejects.toThrow('abort after the writes');
    expect(await db.query(`SELECT 1 FROM streams WHERE id = $1`, [stream])).toEqual([]);
    expect(await db.query(`SELECT 1 FROM events WHERE stream_id = $1`, [stream])).toEqual([]);
  });

  it('refuses a second event with the same stream version (the optimistic-concurrency check)', async () => {
    const stream = streamId();
    await db.query(`INSERT INTO streams (id, type, version) VALUES ($1, 'test', 1)`, [stream]);
    await insertEvent(db, stream, 1);
    await expect(insertEvent(db, stream, 1)).rejects.toMatchObject({ driverError: { code: '23505' } });
  });
});
