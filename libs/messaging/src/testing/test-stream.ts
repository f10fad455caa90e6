import { randomUUID } from 'node:crypto';
import type { PostgresEventStore } from '@latchkey/event-store';
import type { DataSource } from 'typeorm';

/** One stream of the relay tests: events appended one at a time, and what the outbox still holds of it. */
export class TestStream {
  readonly streamId = `user-${randomUUID()}`;
  private version = 0;

  constructor(
    private readonly store: PostgresEventStore,
    private readonly db: DataSource,
  ) {}

  async append(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      await this.store.append({
        streamId: this.streamId,
        streamType: 'user',
        expectedVersion: this.version,
        events: [{ type: 'TestHappened', data: { n: this.version + 1 } }],
        context: { tenantId: randomUUID(), actor: { kind: 'system' }, occurredAt: new Date() },
      });
      this.version++;
    }
  }

  /** Events of this stream still in the outbox. */
  async unpublished(): Promise<number> {
    const [{ count }] = await this.db.query(
      `SELECT count(*)::int AS count FROM outbox o JOIN events e ON e.seq = o.event_seq
       WHERE e.stream_id = $1`,
      [this.streamId],
    );
    return count;
  }
}

/** Polls `check` every 100 ms until it holds; throws naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
