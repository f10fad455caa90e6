import { StreamMutex } from './stream-mutex';

describe('StreamMutex', () => {
  it('runs work for one key one at a time, in arrival order, and other keys in parallel', async () => {
    const mutex = new StreamMutex();
    const log: string[] = [];
    const step = (key: string, name: string, ms: number) =>
      mutex.run(key, async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
      });
    await Promise.all([step('a', 'a1', 20), step('a', 'a2', 1), step('b', 'b1', 5)]);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('keeps going after a failure', async () => {
    const mutex = new StreamMutex();
    await expect(mutex.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run('a', async () => 'next')).resolves.toBe('next');
  });
});
