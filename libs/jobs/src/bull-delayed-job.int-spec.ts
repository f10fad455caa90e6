import { randomUUID } from 'node:crypto';
import Queue from 'bull';
import { integrationConfig } from '../../../test/integration-config';

describe('bull delayed jobs (real Redis)', () => {
  const { redis } = integrationConfig();
  const queue = new Queue(`test-delayed-${randomUUID()}`, {
    redis: { host: redis.host, port: redis.port },
    prefix: `${redis.prefix}-test`,
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('fires a delayed job once, not before its delay', async () => {
    const delayMs = 400;
    const fired: { payload: unknown; at: number }[] = [];
    const done = new Promise<void>((resolve) => {
      void queue.process(async (job) => {
        fired.push({ payload: job.data, at: Date.now() });
        resolve();
      });
    });

    const enqueuedAt = Date.now();
    const job = await queue.add({ user: 'alice' }, { delay: delayMs, jobId: randomUUID() });
    expect(await job.getState()).toBe('delayed');

    await done;
    await new Promise((r) => setTimeout(r, 200)); // room for a wrongful second firing
    expect(fired).toHaveLength(1);
    expect(fired[0].payload).toEqual({ user: 'alice' });
    expect(fired[0].at - enqueuedAt).toBeGreaterThanOrEqual(delayMs);
    expect(await queue.getJobCounts()).toMatchObject({ delayed: 0, waiting: 0, active: 0, failed: 0 });
  });
});
