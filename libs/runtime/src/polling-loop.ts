export interface PollingLoopOptions {
  /** Wait after a step that found nothing more to do. */
  idlePollMs: number;
  /** First wait after a failed step; doubled after each further failure, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Told of each failure and how long the loop pauses (for a log line, or to let go of a lock). */
  onError?: (error: unknown, pauseMs: number) => Promise<void> | void;
}

/**
 * A single background worker polling PostgreSQL (the outbox relay, the chain sealer): `step` runs
 * again at once while it reports more work waiting, after `idlePollMs` when it reports none, and
 * after a doubling back-off when it throws. `stop` cuts a wait short and waits for a step in flight.
 */
export class PollingLoop {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly step: () => Promise<boolean>,
    private readonly options: PollingLoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoff = this.options.backoffMs;
    while (this.running) {
      try {
        const more = await this.step();
        backoff = this.options.backoffMs;
        if (!more) await this.sleep(this.options.idlePollMs);
      } catch (error) {
        await this.options.onError?.(error, backoff);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
