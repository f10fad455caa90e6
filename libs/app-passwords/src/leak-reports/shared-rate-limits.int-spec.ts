import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { parseConfig } from '@latchkey/config';
import Redis from 'ioredis';
import { SharedRateLimitStorage } from './shared-rate-limits';

const TTL_MS = 60_000;
const LIMIT = 3;

describe('SharedRateLimitStorage (B12: the leak-report limit across API instances)', () => {
  const { redis } = parseConfig(process.env);
  const prefix = `latchkey-test-limits-${randomUUID().slice(0, 8)}`;
  const storages: SharedRateLimitStorage[] = [];
  const storage = (options = { ...redis, prefix }) => {
    const created = new SharedRateLimitStorage(options);
    storages.push(created);
    return created;
  };
  const hit = (on: SharedRateLimitStorage, key: string) =>
    on.increment(key, TTL_MS, LIMIT, TTL_MS, 'default');

  afterAll(() => storages.forEach((s) => s.onModuleDestroy()));

  it('B12: two instances count one client together, in Redis under the configured prefix', async () => {
    const [first, second] = [storage(), storage()];
    const seen = [];
    for (const on of [first, second, first, second]) seen.push(await hit(on, 'client-a'));
    expect(seen.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(seen[3].timeToBlockExpire).toBeGreaterThan(0);
    // Another client, and another deployment's prefix, start from nothing.
    expect(await hit(first, 'client-b')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await hit(storage({ ...redis, prefix: `${prefix}-other` }), 'client-a')).toMatchObject({
      totalHits: 1,
    });

    const inspector = new Redis({ host: redis.host, port: redis.port });
    try {
      const keys = await inspector.keys(`${prefix}:rate-limits:*`);
      expect(keys.length).toBeGreaterThanOrEqual(3); // client-a's hits and block, client-b's hits
      for (const key of keys) expect(await inspector.pttl(key)).toBeGreaterThan(0); // nothing outlives its window
    } finally {
      inspector.disconnect();
    }
  });

  it('B12: while Redis does not answer, each instance still limits on its own instead of failing', async () => {
    // A port that accepts connections and never answers: every command times out.
    const accepted: Socket[] = [];
    const silent: Server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    let alone: SharedRateLimitStorage | undefined;
    try {
      const port = (silent.address() as { port: number }).port;
      alone = storage({ host: '127.0.0.1', port, prefix });
      const started = Date.now();
      const seen = [];
      for (let i = 0; i <= LIMIT; i++) seen.push(await hit(alone, 'client-c'));
      expect(seen.map((r) => r.isBlocked)).toEqual([false, false, false, true]);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      alone?.onModuleDestroy();
      accepted.forEach((socket) => socket.destroy());
      silent.close();
    }
  });
});
