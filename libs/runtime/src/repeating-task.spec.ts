import { RepeatingTask } from './repeating-task';

describe('RepeatingTask', () => {
  it('runs at once, repeats after each run, and runs nothing once stopped mid-run', async () => {
    let runs = 0;
    let release!: () => void;
    const task = new RepeatingTask(async () => {
      runs++;
      if (runs === 2) await new Promise<void>((resolve) => (release = resolve));
    }, 5);
    task.start();
    expect(runs).toBe(1);
    await new Promise((r) => setTimeout(r, 30)); // the second run is in flight, held
    expect(runs).toBe(2);
    const stopping = task.stop();
    release();
    await stopping;
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(2);
  });
});
