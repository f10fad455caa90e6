import { randomUUID } from 'node:crypto';
import { ChainSealer, type ChainAnchor } from './chain-sealer';
import { ChainVerifier } from './chain-verifier';
import { ChainFixture } from './testing/chain-fixture';

describe('B3 the chain sealer (real PostgreSQL)', () => {
  const fixture = new ChainFixture();
  const anchors: ChainAnchor[] = [];
  let sealer: ChainSealer;
  let verifier: ChainVerifier;

  beforeAll(async () => {
    await fixture.open();
    sealer = new ChainSealer(fixture.db, { settleGraceMs: 0, anchorEveryMs: 0 }, async (anchor) => {
      anchors.push(anchor);
    });
    verifier = new ChainVerifier(fixture.db);
  });

  afterAll(async () => {
    await sealer?.stop();
    await fixture.close();
  });

  const sealedSeqs = async (tenantId: string): Promise<string[]> =>
    (
      await fixture.db.query(`SELECT seq::text AS seq FROM event_chain WHERE tenant_id = $1 ORDER BY seq`, [
        tenantId,
      ])
    ).map((r: { seq: string }) => r.seq);

  it('B3: never seals past a seq whose transaction has not committed yet, then seals it once it has', async () => {
    const tenantId = randomUUID();
    const [first] = await fixture.append(tenantId, 1);
    expect((await sealer.sealNow()).sealedThrough).toBeGreaterThanOrEqual(first.seq);

    // A transaction takes a seq and stays open; a later append commits with a higher seq.
    const slow = fixture.db.createQueryRunner();
    await slow.connect();
    try {
      await slow.startTransaction();
      const [late] = await fixture.store.append(
        {
          streamId: `chain-test-${randomUUID()}`,
          streamType: 'chain-test',
          expectedVersion: 0,
          events: [{ type: 'ChainTestHappened', data: { late: true } }],
          context: { tenantId, actor: { kind: 'system' }, occurredAt: new Date() },
        },
        slow,
      );
      const [committed] = await fixture.append(tenantId, 1);
      expect(committed.seq).toBeGreaterThan(late.seq);
      // The committed event is visible to every reader now; sealing it would skip `late` for good.
      const [{ visible }] = await fixture.db.query(
        `SELECT count(*)::int AS visible FROM events WHERE seq = $1`,
        [committed.seq.toString()],
      );
      expect(visible).toBe(1);

      const whileOpen = await sealer.sealNow(300);
      expect(whileOpen.sealedThrough).toBeLessThan(late.seq);
      expect(await sealedSeqs(tenantId)).toEqual([first.seq.toString()]);

      await slow.commitTransaction();
      const after = await sealer.sealNow();
      expect(after.sealedThrough).toBeGreaterThanOrEqual(committed.seq);
      expect(await sealedSeqs(tenantId)).toEqual([first.seq, late.seq, committed.seq].map(String));
      expect(await verifier.verify({ tenantId })).toMatchObject({ intact: true, checked: { events: 3 } });
    } finally {
      if (slow.isTransactionActive) await slow.rollbackTransaction();
      await slow.release();
    }
  });

  it('B3: a seq rolled back is sealed over as a gap, not waited for', async () => {
    const tenantId = randomUUID();
    await fixture.append(tenantId, 2);
    const gap = await fixture.rolledBackSeq(tenantId);
    const [after] = await fixture.append(tenantId, 1);
    const result = await sealer.sealNow();
    expect(result.sealedThrough).toBeGreaterThanOrEqual(after.seq);
    expect(await sealedSeqs(tenantId)).not.toContain(gap.toString());
    expect((await verifier.verify({ tenantId })).intact).toBe(true);
  });

  it('B3: one sealer is active at a time (advisory lock); the other waits for it', async () => {
    await sealer.sealNow(); // holds the lock from here on
    const second = new ChainSealer(fixture.db, { settleGraceMs: 0, anchorEveryMs: 0 });
    try {
      await expect(second.sealNow(200)).rejects.toThrow(/another sealer/);
      expect(sealer.active).toBe(true);
      expect(second.active).toBe(false);
    } finally {
      await second.stop();
    }
  });

  it('B3: anchors the head outside the chain: a stored row, a log line and the sink (Kafka in the worker)', async () => {
    const tenantId = randomUUID();
    await fixture.append(tenantId, 2);
    await sealer.sealNow();
    const anchor = await sealer.anchorNow();
    const [state] = await fixture.db.query(
      `SELECT head_seq::text AS seq, encode(head_link, 'hex') AS link FROM event_chain_state`,
    );
    expect(anchor).toMatchObject({ seq: state.seq, link: state.link });
    expect(anchors.at(-1)).toEqual(anchor);
    const [stored] = await fixture.db.query(
      `SELECT encode(link, 'hex') AS link FROM event_chain_anchors WHERE seq = $1`,
      [state.seq],
    );
    expect(stored.link).toBe(state.link);
    // Nothing moved since: no second anchor of the same head.
    expect(await sealer.anchorNow()).toBeUndefined();
  });

  it('B3: seals thousands of events per statement, faster than 2,000 events/s', async () => {
    // 10,000 events appended in bulk (100 per append), then sealed in batches of 5,000.
    const tenantId = randomUUID();
    await sealer.sealNow();
    const appends = Array.from({ length: 100 }, (_, s) =>
      fixture.store.append({
        streamId: `chain-test-${randomUUID()}`,
        streamType: 'chain-test',
        expectedVersion: 0,
        events: Array.from({ length: 100 }, (_, n) => ({
          type: 'LegacySignInSucceeded',
          data: { n, stream: s, protocol: 'IMAP', clientIp: '192.0.2.10' },
        })),
        context: { tenantId, actor: { kind: 'gateway' }, occurredAt: new Date() },
      }),
    );
    await Promise.all(appends);
    const started = performance.now();
    const result = await sealer.sealNow(10_000);
    const seconds = (performance.now() - started) / 1_000;
    const rate = result.sealed / seconds;
    console.log(
      `B3 sealer: ${result.sealed} events in ${seconds.toFixed(2)} s = ${Math.round(rate)} events/s`,
    );
    expect(result.sealed).toBeGreaterThanOrEqual(10_000);
    expect(rate).toBeGreaterThan(2_000);

    const verifyStarted = performance.now();
    const report = await verifier.verify({ tenantId });
    const verifyRate = 10_000 / ((performance.now() - verifyStarted) / 1_000);
    console.log(`B3 verify: 10000 events of one tenant at ${Math.round(verifyRate)} events/s`);
    expect(report).toMatchObject({ intact: true, checked: { events: 10_000, chainRows: 10_000 } });
  });
});
