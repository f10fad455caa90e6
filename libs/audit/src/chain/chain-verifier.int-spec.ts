import { randomUUID } from 'node:crypto';
import { ChainSealer } from './chain-sealer';
import { ChainVerifier, type ChainReport } from './chain-verifier';
import { ChainFixture } from './testing/chain-fixture';

// Tampering goes straight at the tables, as someone with write access to the database would.
describe('B3 tamper evidence: the chain verified against the stored history (real PostgreSQL)', () => {
  const fixture = new ChainFixture();
  let sealer: ChainSealer;
  let verifier: ChainVerifier;

  beforeAll(async () => {
    await fixture.open();
    sealer = new ChainSealer(fixture.db, { settleGraceMs: 0, anchorEveryMs: 0 });
    verifier = new ChainVerifier(fixture.db);
  });

  afterAll(async () => {
    await sealer?.stop();
    await fixture.close();
  });

  /** Appends a tenant's events (interleaved with another tenant's) and seals them. */
  async function sealedHistory(count = 10) {
    const tenantId = randomUUID();
    const other = randomUUID();
    const events = [];
    for (let round = 0; round < count / 5; round++) {
      events.push(...(await fixture.append(tenantId, 5)));
      await fixture.append(other, 2);
    }
    const sealed = await sealer.sealNow();
    expect(sealed.sealedThrough).toBeGreaterThanOrEqual(events[events.length - 1].seq);
    const fromSeq = events[0].seq;
    return { tenantId, other, events, fromSeq, seqs: events.map((e) => e.seq.toString()) };
  }

  /** The tenant's own report and the operator's global one from the history's first event. */
  async function reports(tenantId: string, fromSeq: bigint): Promise<[ChainReport, ChainReport]> {
    return [await verifier.verify({ tenantId }), await verifier.verify({ fromSeq })];
  }

  const execute = (sql: string, parameters: unknown[] = []) => fixture.db.query(sql, parameters);

  it('B3: an untouched history verifies clean, for the tenant and globally', async () => {
    const { tenantId, fromSeq, seqs } = await sealedHistory(10);
    const [tenant, global] = await reports(tenantId, fromSeq);
    expect(tenant).toMatchObject({
      scope: 'tenant',
      tenantId,
      intact: true,
      firstBreak: null,
      breaks: 0,
      checked: { chainRows: 10, events: 10 },
      head: { seq: seqs[9] },
    });
    expect(tenant.head!.link).toMatch(/^[0-9a-f]{64}$/);
    expect(global).toMatchObject({ scope: 'global', intact: true, firstBreak: null, breaks: 0 });
    // Ten of the tenant's and four of the other's, at least (another test's events may follow).
    expect(global.checked.chainRows).toBeGreaterThanOrEqual(14);
  });

  it("B3: modifying an event's data is reported as modified at its seq", async () => {
    const { tenantId, fromSeq, seqs } = await sealedHistory();
    await execute(`UPDATE events SET data = jsonb_set(data, '{note}', '"edited"') WHERE seq = $1`, [seqs[4]]);
    for (const report of await reports(tenantId, fromSeq)) {
      expect(report.intact).toBe(false);
      expect(report.firstBreak).toMatchObject({ seq: seqs[4], kind: 'modified' });
      expect(report.breaks).toBe(1);
    }
  });

  it('B3: changing a timestamp by one microsecond is reported as modified', async () => {
    const { tenantId, fromSeq, seqs } = await sealedHistory();
    await execute(`UPDATE events SET recorded_at = recorded_at + interval '1 microsecond' WHERE seq = $1`, [
      seqs[7],
    ]);
    for (const report of await reports(tenantId, fromSeq)) {
      expect(report.firstBreak).toMatchObject({ seq: seqs[7], kind: 'modified' });
    }
  });

  it('B3: deleting an event is reported as missing at its seq (it leaves a seq gap)', async () => {
    const { tenantId, fromSeq, seqs } = await sealedHistory();
    await execute(`DELETE FROM outbox WHERE event_seq = $1`, [seqs[2]]);
    await execute(`DELETE FROM events WHERE seq = $1`, [seqs[2]]);
    for (const report of await reports(tenantId, fromSeq)) {
      expect(report.firstBreak).toMatchObject({ seq: seqs[2], kind: 'missing' });
      expect(report.breaks).toBe(1);
    }
  });

  it('B3: deleting an event together with its chain row is still reported as missing at its seq', async () => {
    const { tenantId, fromSeq, seqs } = await sealedHistory();
    await execute(`DELETE FROM outbox WHERE event_seq = $1`, [seqs[6]]);
    await execute(`DELETE FROM events WHERE seq = $1`, [seqs[6]]);
    await execute(`DELETE FROM event_chain WHERE seq = $1`, [seqs[6]]);
    for (const report of await reports(tenantId, fromSeq)) {
      expect(report.firstBreak).toMatchObject({ seq: seqs[6], kind: 'missing' });
    }
  });

  it('B3: inserting a forged event at a seq that was never sealed is reported as inserted', async () => {
    const tenantId = randomUUID();
    const before = await fixture.append(tenantId, 3);
    const gap = await fixture.rolledBackSeq(tenantId); // a seq inside the history that no event holds
    const after = await fixture.append(tenantId, 3);
    await sealer.sealNow();
    expect(gap).toBeGreaterThan(before[2].seq);
    expect(gap).toBeLessThan(after[0].seq);
    expect((await verifier.verify({ tenantId })).intact).toBe(true);

    // A copy of a real event, with a new id, at the free seq, on its stream at a free version.
    await execute(
      `INSERT INTO events (seq, id, stream_id, version, type, schema_version, tenant_id, actor, causation_id,
         correlation_id, data, occurred_at, recorded_at)
       OVERRIDING SYSTEM VALUE
       SELECT $1, gen_random_uuid(), stream_id, 1000, type, schema_version, tenant_id, actor, causation_id,
         correlation_id, '{"forged": true}', occurred_at, recorded_at
       FROM events WHERE seq = $2`,
      [gap.toString(), before[0].seq.toString()],
    );
    for (const report of await reports(tenantId, before[0].seq)) {
      expect(report.firstBreak).toMatchObject({ seq: gap.toString(), kind: 'inserted' });
      expect(report.breaks).toBe(1);
    }
  });

  it('B3: swapping two events (their contents change places) is reported as reordered at the first', async () => {
    const { tenantId, fromSeq, seqs } = await sealedHistory();
    const [a, b] = [seqs[3], seqs[8]];
    const columns = `id, stream_id, version, type, schema_version, tenant_id, actor, causation_id,
      correlation_id, data, occurred_at, recorded_at`;
    // Through a parking spot, as (stream_id, version) and id are unique at every row.
    await fixture.db.transaction(async (tx) => {
      const [rowA] = await tx.query(`SELECT ${columns} FROM events WHERE seq = $1`, [a]);
      const [rowB] = await tx.query(`SELECT ${columns} FROM events WHERE seq = $1`, [b]);
      const write = (seq: string, row: Record<string, unknown>) =>
        tx.query(
          `UPDATE events SET (${columns}) = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) WHERE seq = $1`,
          [
            seq,
            row.id,
            row.stream_id,
            row.version,
            row.type,
            row.schema_version,
            row.tenant_id,
            JSON.stringify(row.actor),
            row.causation_id,
            row.correlation_id,
            JSON.stringify(row.data),
            row.occurred_at,
            row.recorded_at,
          ],
        );
      await write(a, { ...rowA, id: randomUUID(), version: 100_000 });
      await write(b, rowA);
      await write(a, rowB);
    });
    for (const report of await reports(tenantId, fromSeq)) {
      expect(report.firstBreak).toMatchObject({ seq: a, kind: 'reordered', sealedAtSeq: b });
      expect(report.breaks).toBe(2);
    }
  });

  it("B3: tampering with another tenant's events does not show in this tenant's report", async () => {
    const { tenantId, other, fromSeq } = await sealedHistory();
    await execute(
      `UPDATE events SET data = '{"edited": true}' WHERE seq = (SELECT min(seq) FROM events WHERE tenant_id = $1 AND seq >= $2)`,
      [other, fromSeq.toString()],
    );
    expect((await verifier.verify({ tenantId })).intact).toBe(true);
    expect((await verifier.verify({ tenantId: other, fromSeq })).firstBreak?.kind).toBe('modified');
    expect((await verifier.verify({ fromSeq })).firstBreak?.kind).toBe('modified');
  });

  it('B3: a chain rewritten consistently after a change verifies clean alone, and an anchor kept outside catches it', async () => {
    const { tenantId, fromSeq, seqs } = await sealedHistory();
    const kept = (await verifier.verify({ tenantId })).head!; // what the tenant's auditor saved
    const anchored = await sealer.anchorNow(); // the global head, stored, logged and published
    expect(anchored?.seq).toBeDefined();

    // The forger changes an event, then rebuilds the chain from there with the public algorithm.
    await execute(`UPDATE events SET data = '{"rewritten": true}' WHERE seq = $1`, [seqs[5]]);
    await sealer.stop(); // the forger's own sealer needs the lock
    const [previous] = await execute(
      `SELECT seq, link FROM event_chain WHERE seq < $1 ORDER BY seq DESC LIMIT 1`,
      [seqs[5]],
    );
    await execute(`DELETE FROM event_chain WHERE seq >= $1`, [seqs[5]]);
    await execute(`UPDATE event_chain_state SET sealed_through = $1, head_seq = $1, head_link = $2`, [
      previous.seq,
      previous.link,
    ]);
    const forger = new ChainSealer(fixture.db, { settleGraceMs: 0, anchorEveryMs: 0 });
    await forger.sealNow();
    await forger.stop();

    // The chain agrees with itself again: without an anchor, nothing shows (the documented limit).
    const alone = await verifier.verify({ tenantId });
    expect(alone).toMatchObject({ intact: true, breaks: 0 });
    expect(alone.head!.link).not.toBe(kept.link);
    // The auditor's saved head no longer matches...
    const withAnchor = await verifier.verify({ tenantId, anchors: [kept] });
    expect(withAnchor.intact).toBe(false);
    expect(withAnchor.anchors.firstMismatch).toMatchObject({ seq: kept.seq, link: kept.link });
    // ...and neither does the operator's anchor, which the forger forgot in its table.
    const global = await verifier.verify({ fromSeq });
    expect(global.breaks).toBe(0);
    expect(global.anchors.firstMismatch).toMatchObject({ seq: anchored!.seq, link: anchored!.link });
    expect(global.intact).toBe(false);
  });

  it('B3: verification reads in batches (flat memory) and reports progress up to the sealed position', async () => {
    const { tenantId } = await sealedHistory(20);
    const positions: bigint[] = [];
    const report = await verifier.verify({
      tenantId,
      batchSize: 3,
      onProgress: (p) => positions.push(p.position),
    });
    expect(report).toMatchObject({ intact: true, checked: { chainRows: 20, events: 20 } });
    expect(positions.length).toBeGreaterThanOrEqual(7);
    expect(positions).toEqual([...positions].sort((x, y) => (x < y ? -1 : 1)));
    expect(positions.at(-1)).toBe(BigInt(report.sealedThrough));
  });
});
