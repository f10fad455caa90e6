import { createHash } from 'node:crypto';
import { ProblemError } from '@latchkey/problems';
import type { HistoryFilter } from './history-filter';

const MAX_SEQ = (1n << 63n) - 1n;
const MAX_CURSOR_LENGTH = 256;

/**
 * The cursor is opaque but not secret: it holds the last position returned and a fingerprint of the
 * tenant and filters it was issued for. Forging one buys nothing (the tenant still comes from the
 * token and every row is still filtered by it); the fingerprint only turns a cursor replayed with
 * other filters, or garbled in transit, into a clear 400 instead of a silently different walk.
 */
interface CursorBody {
  v: 1;
  /** The position (events.seq) after which the next page starts. */
  after: string;
  f: string;
}

export const invalidCursor = () =>
  new ProblemError(400, 'invalid-cursor', 'Invalid cursor', {
    detail: 'The cursor is not one that this query returned; start again without a cursor.',
  });

/** Tenant and filters, canonically: the same query always has the same fingerprint. */
export function filterFingerprint(tenantId: string, filter: HistoryFilter): string {
  const canonical = JSON.stringify([
    tenantId,
    filter.userId ?? null,
    filter.streamId ?? null,
    filter.types ? [...new Set(filter.types)].sort() : null,
    filter.from?.toISOString() ?? null,
    filter.to?.toISOString() ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export function encodeCursor(after: bigint, fingerprint: string): string {
  const body: CursorBody = { v: 1, after: after.toString(), f: fingerprint };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** The position a cursor resumes after; a 400 `invalid-cursor` for anything this API did not issue. */
export function decodeCursor(cursor: string, fingerprint: string): bigint {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidCursor();
  const { v, after, f, ...rest } = body as Record<string, unknown>;
  if (v !== 1 || Object.keys(rest).length > 0 || f !== fingerprint) throw invalidCursor();
  if (typeof after !== 'string' || !/^\d{1,19}$/.test(after)) throw invalidCursor();
  const seq = BigInt(after);
  if (seq > MAX_SEQ) throw invalidCursor();
  return seq;
}
