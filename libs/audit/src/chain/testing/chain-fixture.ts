import { randomUUID } from 'node:crypto';
import { PostgresEventStore, type EventEnvelope } from '@latchkey/event-store';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../../../test/integration-config';

/** A real database with the chain tables, and events appended the way the service appends them. */
export class ChainFixture {
  db!: DataSource;
  store!: PostgresEventStore;

  async open(): Promise<this> {
    const config = integrationConfig();
    await migrate(config);
    this.db = await new DataSource(dataSourceOptions(config)).initialize();
    this.store = new PostgresEventStore(this.db);
    return this;
  }

  async close(): Promise<void> {
    await this.db?.destroy();
  }

  /** `count` events of a tenant, spread over `streams` new streams, appended one by one. */
  async append(tenantId: string, count: number, streams = 3): Promise<EventEnvelope[]> {
    const ids = Array.from({ length: streams }, () => `chain-test-${randomUUID()}`);
    const versions = new Map<string, number>();
    const appended: EventEnvelope[] = [];
    for (let n = 0; n < count; n++) {
      const streamId = ids[n % streams];
      const version = versions.get(streamId) ?? 0;
      const [stored] = await this.store.append({
        streamId,
        streamType: 'chain-test',
        expectedVersion: version,
        events: [
          { type: 'ChainTestHappened', data: { n, note: `event ${n}`, nested: { b: 2, a: [1, 'x'] } } },
        ],
        context: { tenantId, actor: { kind: 'system' }, occurredAt: new Date(), correlationId: randomUUID() },
      });
      versions.set(streamId, version + 1);
      appended.push(stored);
    }
    return appended;
  }

  /** A seq taken by a transaction that rolled back: a gap no event will ever fill. */
  async rolledBackSeq(tenantId: string): Promise<bigint> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [stored] = await this.store.append(
        {
          streamId: `chain-test-${randomUUID()}`,
          streamType: 'chain-test',
          expectedVersion: 0,
          events: [{ type: 'ChainTestHappened', data: { rolledBack: true } }],
          context: { tenantId, actor: { kind: 'system' }, occurredAt: new Date() },
        },
        runner,
      );
      await runner.rollbackTransaction();
      return stored.seq;
    } finally {
      await runner.release();
    }
  }
}
