/**
 * Runs `work` now, then again `intervalMs` after each run ends (never two at once). `stop` waits
 * for a run in flight and schedules no more: a run that ends after `stop` starts nothing.
 */
export class RepeatingTask {
  private timer?: NodeJS.Timeout;
  private round?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<unknown>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.round = this.work().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }
}
