import { PollingLoop } from './polling-loop';

const options = { idlePollMs: 60_000, backoffMs: 10, maxBackoffMs: 40 };
const until = async (check: () => boolean) => {
  for (const deadline = Date.now() + 2_000; !check() && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 2));
};

describe('PollingLoop', () => {
  it('runs again at once while there is more work, then waits the idle poll', async () => {
    let runs = 0;
    const loop = new PollingLoop(async () => ++runs < 5, options);
    loop.start();
    await until(() => runs >= 5);
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(5); // the fifth found nothing: now idle for a minute
    await loop.stop();
  });

  it('backs off, doubling up to the cap, after failures, and starts over after a success', async () => {
    const pauses: number[] = [];
    let runs = 0;
    const loop = new PollingLoop(
      async () => {
        runs++;
        if (runs <= 4 || runs === 6) throw new Error(`failure ${runs}`);
        return runs < 6;
      },
      { ...options, onError: (_, pauseMs) => void pauses.push(pauseMs) },
    );
    loop.start();
    await until(() => pauses.length >= 5);
    await loop.stop();
    expect(pauses).toEqual([10, 20, 40, 40, 10]);
  });

  it('stop cuts an idle wait short and waits for the step in flight', async () => {
    let finished = false;
    const loop = new PollingLoop(async () => {
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
      return false;
    }, options);
    loop.start();
    const started = Date.now();
    await loop.stop();
    expect(finished).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
