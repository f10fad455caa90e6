import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
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
  it('B12: after Redis was away, an instance shares the count again without a restart', async () => {
    // The instance reaches Redis through a TCP relay this test can cut and restore, as a restart
    // or a network break would, without stopping the Redis other suites use.
    const sockets = new Set<Socket>();
    const relay: Server = createServer((client) => {
      const upstream = connect(redis.port, redis.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    const listen = (port = 0) => new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
    await listen();
    const port = (relay.address() as { port: number }).port;
    const behindRelay = storage({ host: '127.0.0.1', port, prefix });
    const direct = storage();
    try {
      expect(await hit(behindRelay, 'client-d')).toMatchObject({ totalHits: 1 });
      expect(await hit(direct, 'client-d')).toMatchObject({ totalHits: 2 });

      await new Promise<void>((resolve) => {
        relay.close(() => resolve());
        sockets.forEach((socket) => socket.destroy());
      });
      // Away: counted by the instance alone (its own first hit), answered at once.
      const started = Date.now();
      expect(await hit(behindRelay, 'client-d')).toMatchObject({ totalHits: 1 });
      expect(Date.now() - started).toBeLessThan(1_000);

      await listen(port);
      const deadline = Date.now() + 10_000;
      let shared = false;
      while (!shared && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const seenByDirect = (await hit(direct, 'client-d')).totalHits;
        const seenBehindRelay = (await hit(behindRelay, 'client-d')).totalHits;
        shared = seenBehindRelay === seenByDirect + 1;
      }
      expect(shared).toBe(true);
    } finally {
      behindRelay.onModuleDestroy();
      sockets.forEach((socket) => socket.destroy());
      relay.close();
    }
  });
});
