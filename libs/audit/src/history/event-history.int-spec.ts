import { randomUUID } from 'node:crypto';
import { PostgresEventStore, type NewEvent } from '@latchkey/event-store';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { ProblemError } from '@latchkey/problems';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../../test/integration-config';
import type { AuditEvent } from './audit-event';
import { EventHistoryReader } from './event-history.reader';
import type { HistoryFilter } from './history-filter';

// Set up by appending events through the real event store, as the application does.
describe('EventHistoryReader (real PostgreSQL)', () => {
  const config = integrationConfig();
  let db: DataSource;
  let store: PostgresEventStore;
  let reader: EventHistoryReader;

  const tenantA = randomUUID();
  const tenantB = randomUUID();
  const alice = randomUUID();
  const bob = randomUUID();
  const T0 = new Date('2025-03-03T14:00:00Z');
  const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
  const verifier = { algorithm: 'hmac-sha256', keyId: 'k1', hash: 'V'.repeat(43) + '=' };

  async function append(tenantId: string, streamId: string, occurredAt: Date, events: NewEvent[]) {
    await store.append({
      streamId,
      streamType: streamId.split('-')[0],
      expectedVersion: 'any',
      events,
      context: { tenantId, actor: { kind: 'admin', id: 'int' }, occurredAt },
    });
  }

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
    store = new PostgresEventStore(db);
    reader = new EventHistoryReader(db);
    // Interleaved appends, so that a user's events are spread among the tenant's others.
    await append(tenantA, `tenant-${tenantA}`, at(0), [
      { type: 'TenantCreated', data: { tenantId: tenantA } },
    ]);
    await append(tenantA, `user-${alice}`, at(1), [
      { type: 'UserProvisioned', data: { userId: alice } },
      {
        type: 'AppPasswordCreated',
        data: { userId: alice, appPasswordId: randomUUID(), name: 'phone', verifier },
      },
    ]);
    await append(tenantA, `user-${bob}`, at(2), [{ type: 'UserProvisioned', data: { userId: bob } }]);
    for (let i = 0; i < 6; i++) {
      await append(tenantA, `sign-ins-${tenantA}-${i % 2}`, at(3 + i), [
        { type: 'LegacySignInSucceeded', data: { userId: i % 3 === 0 ? alice : bob, protocol: 'IMAP' } },
      ]);
    }
    await append(tenantA, `user-${alice}`, at(10), [{ type: 'UserDisabled', data: { userId: alice } }]);
    await append(tenantA, `sign-ins-${tenantA}-0`, at(11), [
      { type: 'LegacySignInFailed', data: { userId: null, username: "x' OR 1=1 --" } },
    ]);
    // Tenant B's events name alice's id too: never visible to tenant A, whatever the filter.
    await append(tenantB, `user-${randomUUID()}`, at(5), [
      { type: 'UserProvisioned', data: { userId: alice } },
    ]);
    await append(tenantB, `sign-ins-${tenantB}-0`, at(5), [
      { type: 'LegacySignInSucceeded', data: { userId: alice } },
    ]);
  });
  afterAll(() => db?.destroy());

  const tenantEvents = async (tenantId: string): Promise<{ seq: string; stream_id: string }[]> =>
    db.query(`SELECT seq::text, stream_id FROM events WHERE tenant_id = $1 ORDER BY events.seq`, [tenantId]);

  async function walk(filter: HistoryFilter, limit: number, scanBudget?: number) {
    const seen: AuditEvent[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await reader.page(tenantA, filter, { limit, cursor, scanBudget });
      expect(page.events.length).toBeLessThanOrEqual(limit);
      seen.push(...page.events);
      cursor = page.next ?? undefined;
      if (++pages > 100) throw new Error('the walk does not end');
    } while (cursor);
    return { seen, pages };
  }

  it('a walk by pages of 2 returns every event of the tenant exactly once, in seq order', async () => {
    const expected = (await tenantEvents(tenantA)).map((row) => row.seq);
    expect(expected).toHaveLength(12);
    const { seen, pages } = await walk({}, 2);
    expect(seen.map((event) => event.seq)).toEqual(expected);
    expect(pages).toBe(6);
  });

  it("userId: the user's stream and the tenant's events naming the user, no other tenant's", async () => {
    const { seen } = await walk({ userId: alice }, 100);
    expect(seen.map((event) => event.type)).toEqual([
      'UserProvisioned',
      'AppPasswordCreated',
      'LegacySignInSucceeded',
      'LegacySignInSucceeded',
      'UserDisabled',
    ]);
    expect(
      seen.every((event) => event.streamId.includes(tenantA) || event.streamId === `user-${alice}`),
    ).toBe(true);
  });

  it('with a scan budget smaller than the history, short or empty pages still walk every match exactly once', async () => {
    const full = await walk({ userId: alice }, 100);
    const budgeted = await walk({ userId: alice }, 2, 3);
    expect(budgeted.seen.map((event) => event.seq)).toEqual(full.seen.map((event) => event.seq));
    expect(budgeted.pages).toBeGreaterThan(3);
  });

  it('streamId, several types and a time range narrow the history', async () => {
    const stream = await reader.page(tenantA, { streamId: `user-${alice}` }, { limit: 100 });
    expect(stream.events.map((event) => event.version)).toEqual([1, 2, 3]);
    const types = await walk({ types: ['UserDisabled', 'LegacySignInFailed'] }, 100);
    expect(types.seen.map((event) => event.type)).toEqual(['UserDisabled', 'LegacySignInFailed']);
    // from inclusive, to exclusive: minutes 3, 4, 5 of the sign-ins.
    const range = await walk({ from: at(3), to: at(6) }, 100);
    expect(range.seen.map((event) => event.occurredAt)).toEqual(
      [at(3), at(4), at(5)].map((date) => date.toISOString()),
    );
    expect(await reader.count(tenantA, { from: at(3), to: at(6) })).toBe(3);
  });

  it("tenant isolation: another tenant's stream ids give nothing", async () => {
    const foreignStreams = [...new Set((await tenantEvents(tenantB)).map((row) => row.stream_id))];
    for (const streamId of foreignStreams) {
      expect(await reader.page(tenantA, { streamId }, { limit: 100 })).toEqual({ events: [], next: null });
      expect(await reader.count(tenantA, { streamId })).toBe(0);
    }
    const everything = await walk({}, 1000);
    expect(everything.seen.some((event) => foreignStreams.includes(event.streamId))).toBe(false);
  });

  it('PRODUCT §5: no verifier in pages or exports', async () => {
    const { seen } = await walk({}, 1000);
    const batches: AuditEvent[] = [];
    for await (const batch of reader.batches(tenantA, {})) batches.push(...batch);
    const created = seen.find((event) => event.type === 'AppPasswordCreated')!;
    expect(created.data).toMatchObject({ userId: alice, name: 'phone' });
    expect(JSON.stringify([seen, batches])).not.toContain('verifier');
    expect(JSON.stringify([seen, batches])).not.toContain(verifier.hash);
  });

  it('export batches walk the filtered history in seq order, whatever the batch size', async () => {
    const expected = (await tenantEvents(tenantA)).map((row) => row.seq);
    for (const batchSize of [1, 5, 12, 1000]) {
      const seqs: string[] = [];
      for await (const batch of reader.batches(tenantA, {}, { batchSize })) {
        expect(batch.length).toBeLessThanOrEqual(batchSize);
        seqs.push(...batch.map((event) => event.seq));
      }
      expect(seqs).toEqual(expected);
    }
    const alices: string[] = [];
    for await (const batch of reader.batches(tenantA, { userId: alice }, { batchSize: 2 }))
      alices.push(...batch.map((event) => event.type));
    expect(alices).toHaveLength(5);
  });

  it('an event whose transaction is still open is withheld, so a walk resumed later does not skip it', async () => {
    const runner = db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const streamId = `user-${alice}`;
      // The late row gets its seq now but commits only after a later append is already visible.
      await runner.query(`UPDATE streams SET version = version + 1 WHERE id = $1 RETURNING version`, [
        streamId,
      ]);
      const [{ seq: lateSeq }] = await runner.query(
        `INSERT INTO events (id, stream_id, version, type, tenant_id, actor, data, occurred_at)
         SELECT $1, $2, version, 'UserEnabled', $3, '{"kind":"admin"}', $4, now() FROM streams WHERE id = $2
         RETURNING seq::text`,
        [randomUUID(), streamId, tenantA, JSON.stringify({ userId: alice })],
      );
      await append(tenantA, `user-${bob}`, at(20), [{ type: 'UserDisabled', data: { userId: bob } }]);
      const before = await walk({}, 1000);
      expect(before.seen.map((event) => event.seq)).not.toContain(lateSeq);
      expect(
        before.seen.some((event) => event.type === 'UserDisabled' && event.streamId === `user-${bob}`),
      ).toBe(false);
      await runner.commitTransaction();
      const after = await walk({}, 1000);
      expect(after.seen.map((event) => event.seq)).toContain(lateSeq);
      expect(after.seen.map((event) => event.seq)).toEqual(
        (await tenantEvents(tenantA)).map((row) => row.seq),
      );
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it("a cursor from another query or tenant is a 400 invalid-cursor, not another tenant's data", async () => {
    const first = await reader.page(tenantA, {}, { limit: 1 });
    expect(first.next).not.toBeNull();
    await expect(reader.page(tenantB, {}, { limit: 1, cursor: first.next! })).rejects.toMatchObject({
      status: 400,
      slug: 'invalid-cursor',
    });
    await expect(
      reader.page(tenantA, { types: ['X'] }, { limit: 1, cursor: first.next! }),
    ).rejects.toBeInstanceOf(ProblemError);
  });
});
