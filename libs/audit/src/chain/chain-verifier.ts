import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CHAINED_EVENT_COLUMNS,
  chainLink,
  eventDigest,
  GENESIS_LINK,
  toChainedEvent,
  type ChainedEventRow,
} from './chain-link';

/**
 * How the history differs from what was sealed at `seq`:
 * - modified: the event sealed there is still there (same id) but some column changed;
 * - missing: the event sealed there is gone (deleted, or moved out of this tenant);
 * - inserted: an event sits at a position that was settled and sealed without it;
 * - reordered: the event there was sealed at another position (`sealedAtSeq`).
 */
export type ChainBreakKind = 'modified' | 'missing' | 'inserted' | 'reordered';

export interface ChainBreak {
  seq: string;
  kind: ChainBreakKind;
  detail: string;
  /** The id sealed at `seq`, when one was. */
  sealedEventId?: string;
  /** The id of the event found at `seq`, when there is one. */
  foundEventId?: string;
  sealedAtSeq?: string;
}

export interface AnchorCheck {
  seq: string;
  /** Hex of the link the anchor holds. */
  link: string;
}

export interface AnchorResult {
  checked: number;
  /** The first anchor whose link the chain does not hold: the chain was rewritten. */
  firstMismatch: (AnchorCheck & { storedLink: string | null }) | null;
}

export interface ChainReport {
  scope: 'global' | 'tenant';
  tenantId?: string;
  intact: boolean;
  /** Every position up to here was settled and sealed; later events are not covered yet. */
  sealedThrough: string;
  /** What this run compared: sealed chain rows and events of the scope, from `fromSeq`. */
  checked: { fromSeq: string; chainRows: number; events: number };
  /** The last sealed link of the scope: keep it, and pass it back later as an anchor. */
  head: { seq: string; link: string } | null;
  firstBreak: ChainBreak | null;
  breaks: number;
  anchors: AnchorResult;
}

export interface VerifyOptions {
  /** Only this tenant's chain (its events and its links); the global chain when absent. */
  tenantId?: string;
  /** Start here, trusting the link stored just before (for "since the last anchor" checks). */
  fromSeq?: bigint;
  /** Anchors kept outside the database: each must still be in the chain with the same link. */
  anchors?: readonly AnchorCheck[];
  batchSize?: number;
  onProgress?: (progress: VerifyProgress) => void;
}

export interface VerifyProgress {
  position: bigint;
  fromSeq: bigint;
  sealedThrough: bigint;
  rows: number;
}

interface ChainRow {
  seq: string;
  event_id: string;
  prev_seq: string | null;
  link: Buffer;
}

/**
 * Recomputes the chain from the events and compares it with the stored one, in batches on both
 * sides (keyset on seq), so memory stays flat whatever the size of the history. Each link is checked
 * against the stored link before it, so every break is found on its own, not only the first; the
 * first is classified.
 *
 * What this detects, and what it cannot:
 * - Any change to a sealed event, its deletion, an event added at a sealed position, and events
 *   swapped: each breaks the link at that position.
 * - Someone with write access to the database can recompute the chain rows after a change (the
 *   algorithm is public, there is no key). Then the stored chain agrees with itself, and only an
 *   anchor kept outside the database shows it: a published head (worker log, Kafka topic) or a head
 *   an auditor saved from an earlier report. The anchors table in the same database helps only
 *   against someone who forgot it.
 * - Events not yet sealed (after `sealedThrough`, usually under a second old) are not covered, and
 *   an event forged above the sealed position before the sealer reaches it is sealed like any other.
 */
@Injectable()
export class ChainVerifier {
  constructor(private readonly db: DataSource) {}

  async verify(options: VerifyOptions = {}): Promise<ChainReport> {
    const { tenantId } = options;
    const batchSize = options.batchSize ?? 5_000;
    const [state] = await this.db.query(`SELECT sealed_through::text AS through FROM event_chain_state`);
    const sealedThrough = BigInt(state?.through ?? '0');
    const fromSeq = options.fromSeq && options.fromSeq > 1n ? options.fromSeq : 1n;
    const linkColumn = tenantId ? 'tenant_link' : 'link';
    const prevColumn = tenantId ? 'tenant_prev_seq' : 'prev_seq';
    // $1 is the tenant in every statement of a tenant's run: another tenant's rows are never read.
    // (Columns are qualified throughout: `ORDER BY seq` would sort the text alias, not the bigint.)
    const scope = tenantId ? 'c.tenant_id = $1' : '$1::uuid IS NULL';

    // The link just before fromSeq is trusted as the starting point (the genesis from the start).
    let previous: { seq: string | null; link: Buffer } = { seq: null, link: GENESIS_LINK };
    if (fromSeq > 1n) {
      const [row] = await this.db.query(
        `SELECT c.seq::text AS seq, c.${linkColumn} AS link FROM event_chain c
         WHERE ${scope} AND c.seq < $2 ORDER BY c.seq DESC LIMIT 1`,
        [tenantId ?? null, fromSeq.toString()],
      );
      if (row) previous = { seq: row.seq, link: row.link };
    }

    const report: ChainReport = {
      scope: tenantId ? 'tenant' : 'global',
      ...(tenantId ? { tenantId } : {}),
      intact: true,
      sealedThrough: sealedThrough.toString(),
      checked: { fromSeq: fromSeq.toString(), chainRows: 0, events: 0 },
      head: null,
      firstBreak: null,
      breaks: 0,
      anchors: { checked: 0, firstMismatch: null },
    };
    const broken = async (found: ChainBreak | (() => Promise<ChainBreak>)) => {
      report.breaks++;
      if (!report.firstBreak) report.firstBreak = typeof found === 'function' ? await found() : found;
    };

    let cursor = fromSeq - 1n;
    while (cursor < sealedThrough) {
      const chain: ChainRow[] = await this.db.query(
        `SELECT c.seq::text AS seq, c.event_id, c.${prevColumn}::text AS prev_seq, c.${linkColumn} AS link
         FROM event_chain c WHERE ${scope} AND c.seq > $2 AND c.seq <= $3 ORDER BY c.seq LIMIT $4`,
        [tenantId ?? null, cursor.toString(), sealedThrough.toString(), batchSize],
      );
      const events: ChainedEventRow[] = await this.db.query(
        `SELECT ${CHAINED_EVENT_COLUMNS} FROM events e
         WHERE ${scope.replace('c.tenant_id', 'e.tenant_id')} AND e.seq > $2 AND e.seq <= $3
         ORDER BY e.seq LIMIT $4`,
        [tenantId ?? null, cursor.toString(), sealedThrough.toString(), batchSize],
      );
      // A full batch on either side ends this round at its last seq; the other side is cut there.
      let upper = sealedThrough;
      if (chain.length === batchSize) upper = min(upper, BigInt(chain[chain.length - 1].seq));
      if (events.length === batchSize) upper = min(upper, BigInt(events[events.length - 1].seq));

      let i = 0;
      let j = 0;
      for (;;) {
        const c = i < chain.length && BigInt(chain[i].seq) <= upper ? chain[i] : undefined;
        const e = j < events.length && BigInt(events[j].seq) <= upper ? events[j] : undefined;
        if (!c && !e) break;
        const cSeq = c ? BigInt(c.seq) : undefined;
        const eSeq = e ? BigInt(e.seq) : undefined;
        if (c && (!e || cSeq! < eSeq!)) {
          await broken({
            seq: c.seq,
            kind: 'missing',
            detail: `the event sealed at ${c.seq} is not there`,
            sealedEventId: c.event_id,
          });
          report.checked.chainRows++;
          previous = { seq: c.seq, link: c.link };
          i++;
          continue;
        }
        if (e && (!c || eSeq! < cSeq!)) {
          await broken({
            seq: e.seq,
            kind: 'inserted',
            detail: `an event is at ${e.seq}, a position sealed without it`,
            foundEventId: e.id,
          });
          report.checked.events++;
          j++;
          continue;
        }
        // Both at the same seq.
        report.checked.chainRows++;
        report.checked.events++;
        i++;
        j++;
        if (c!.prev_seq !== previous.seq) {
          // The chain row names another predecessor than the row before it in the table: sealed
          // rows went away together with their events, or rows were added to the chain.
          const gone =
            c!.prev_seq !== null && (previous.seq === null || BigInt(c!.prev_seq) > BigInt(previous.seq));
          await broken(
            gone
              ? {
                  seq: c!.prev_seq!,
                  kind: 'missing',
                  detail: `the event sealed at ${c!.prev_seq} is gone, and its chain row with it`,
                }
              : {
                  seq: previous.seq!,
                  kind: 'inserted',
                  detail: `the event and chain row at ${previous.seq} were not part of the sealed chain`,
                },
          );
        } else if (e!.id !== c!.event_id) {
          await broken(() => this.misplaced(tenantId, c!, e!));
        } else if (!chainLink(previous.link, eventDigest(toChainedEvent(e!))).equals(c!.link)) {
          await broken({
            seq: c!.seq,
            kind: 'modified',
            detail: `the event at ${c!.seq} differs from what was sealed (or its chain link was changed)`,
            sealedEventId: c!.event_id,
            foundEventId: e!.id,
          });
        }
        previous = { seq: c!.seq, link: c!.link };
      }
      cursor = upper;
      options.onProgress?.({
        position: cursor,
        fromSeq,
        sealedThrough,
        rows: report.checked.chainRows + report.checked.events,
      });
    }

    if (previous.seq !== null) report.head = { seq: previous.seq, link: previous.link.toString('hex') };
    report.anchors = await this.checkAnchors(tenantId, options.anchors ?? [], fromSeq, sealedThrough);
    report.intact = report.breaks === 0 && report.anchors.firstMismatch === null;
    return report;
  }

  /** An event whose id is not the sealed one: sealed elsewhere (reordered) or never (replaced). */
  private async misplaced(
    tenantId: string | undefined,
    c: ChainRow,
    e: ChainedEventRow,
  ): Promise<ChainBreak> {
    // Unindexed on purpose (one scan, only for the first break): an index on event ids would cost
    // every sealed batch more than it ever saves.
    const [elsewhere] = await this.db.query(
      `SELECT seq::text AS seq FROM event_chain WHERE ${tenantId ? 'tenant_id = $2 AND ' : ''}event_id = $1 LIMIT 1`,
      tenantId ? [e.id, tenantId] : [e.id],
    );
    return elsewhere
      ? {
          seq: c.seq,
          kind: 'reordered',
          detail: `the event at ${c.seq} was sealed at ${elsewhere.seq}`,
          sealedEventId: c.event_id,
          foundEventId: e.id,
          sealedAtSeq: elsewhere.seq,
        }
      : {
          seq: c.seq,
          kind: 'modified',
          detail: `the event at ${c.seq} was replaced by one that was never sealed`,
          sealedEventId: c.event_id,
          foundEventId: e.id,
        };
  }

  /**
   * Anchors: the ones given (kept outside the database) and, for the global chain, the anchors table.
   * A tenant's run compares with its own chain's links only; stored anchors before `fromSeq` are
   * outside the range asked for, like the links there.
   */
  private async checkAnchors(
    tenantId: string | undefined,
    given: readonly AnchorCheck[],
    fromSeq: bigint,
    sealedThrough: bigint,
  ): Promise<AnchorResult> {
    const result: AnchorResult = { checked: 0, firstMismatch: null };
    const linkColumn = tenantId ? 'tenant_link' : 'link';
    for (const anchor of given) {
      const [row] = await this.db.query(
        `SELECT encode(${linkColumn}, 'hex') AS link FROM event_chain
         WHERE seq = $1 AND ${tenantId ? 'tenant_id = $2' : '$2::uuid IS NULL'}`,
        [anchor.seq, tenantId ?? null],
      );
      result.checked++;
      const storedLink: string | null = row?.link ?? null;
      if (storedLink !== anchor.link.toLowerCase() && !result.firstMismatch)
        result.firstMismatch = { seq: anchor.seq, link: anchor.link.toLowerCase(), storedLink };
    }
    if (tenantId) return result;
    const [stored] = await this.db.query(
      `SELECT count(*)::int AS n,
         (SELECT json_build_object('seq', a.seq::text, 'link', encode(a.link, 'hex'), 'storedLink', encode(c.link, 'hex'))
          FROM event_chain_anchors a LEFT JOIN event_chain c ON c.seq = a.seq
          WHERE a.seq BETWEEN $1 AND $2 AND c.link IS DISTINCT FROM a.link ORDER BY a.seq LIMIT 1) AS mismatch
       FROM event_chain_anchors WHERE seq BETWEEN $1 AND $2`,
      [fromSeq.toString(), sealedThrough.toString()],
    );
    result.checked += stored.n;
    result.firstMismatch ??= stored.mismatch ?? null;
    return result;
  }
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
