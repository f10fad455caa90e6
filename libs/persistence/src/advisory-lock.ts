import type { DataSource, QueryRunner } from 'typeorm';

/**
 * A session-level PostgreSQL advisory lock, held on a connection of its own: whichever process
 * holds it is the one active instance of a background worker (the outbox relay, the chain sealer).
 * If that connection dies, the lock dies with it, so work done as the holder must run on
 * `connection`, never on the pool: a holder that lost its lock then fails instead of working on.
 */
export class AdvisoryLock {
  private holder?: QueryRunner;

  constructor(
    private readonly db: DataSource,
    private readonly key: number,
  ) {}

  /** The holding connection, while this instance holds the lock. */
  get connection(): QueryRunner | undefined {
    return this.holder;
  }

  /**
   * Takes the lock if nobody holds it. `acquired`: just now (state kept while another instance
   * held it may be stale); `held`: already this instance's; `taken`: another instance has it.
   */
  async tryAcquire(): Promise<'acquired' | 'held' | 'taken'> {
    if (this.holder) return 'held';
    const runner = this.db.createQueryRunner();
    try {
      await runner.connect();
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [this.key]);
      if (locked) {
        this.holder = runner;
        return 'acquired';
      }
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw error;
    }
    await runner.release();
    return 'taken';
  }

  async release(): Promise<void> {
    const runner = this.holder;
    this.holder = undefined;
    await runner?.query('SELECT pg_advisory_unlock($1)', [this.key]).catch(() => undefined);
    await runner?.release().catch(() => undefined);
  }
}
