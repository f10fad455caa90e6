import { ProblemError } from '@latchkey/problems';
import { decodeCursor, encodeCursor, filterFingerprint } from './history-cursor';

const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER = '33333333-3333-4333-8333-333333333333';

function refusal(cursor: string, fingerprint: string): ProblemError {
  try {
    decodeCursor(cursor, fingerprint);
  } catch (error) {
    return error as ProblemError;
  }
  throw new Error('the cursor was accepted');
}

describe('history cursor', () => {
  const fingerprint = filterFingerprint(TENANT, { types: ['A'] });

  it('round-trips the position, up to the largest bigint', () => {
    for (const seq of [0n, 1n, 123_456_789n, (1n << 63n) - 1n]) {
      const cursor = encodeCursor(seq, fingerprint);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(cursor, fingerprint)).toBe(seq);
    }
  });

  it('the fingerprint depends on the tenant and every filter, not on how types were listed', () => {
    const base = { userId: 'u', streamId: 's', types: ['A', 'B'], from: new Date(0), to: new Date(1) };
    const fp = filterFingerprint(TENANT, base);
    expect(filterFingerprint(TENANT, { ...base, types: ['B', 'A', 'A'] })).toBe(fp);
    expect(filterFingerprint(OTHER, base)).not.toBe(fp);
    for (const change of [
      { userId: 'v' },
      { streamId: 't' },
      { types: ['A'] },
      { from: new Date(2) },
      { to: new Date(3) },
    ])
      expect(filterFingerprint(TENANT, { ...base, ...change })).not.toBe(fp);
  });

  const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');

  it.each([
    ['garbage', 'not a cursor!'],
    ['base64 of no JSON', Buffer.from('{{{').toString('base64url')],
    ['a JSON array', forge([1])],
    ['JSON null', forge(null)],
    ['another version', forge({ v: 2, after: '1', f: fingerprint })],
    ['a negative position', forge({ v: 1, after: '-1', f: fingerprint })],
    ['a numeric position', forge({ v: 1, after: 5, f: fingerprint })],
    ['a position past bigint', forge({ v: 1, after: '9223372036854775808', f: fingerprint })],
    ['SQL in the position', forge({ v: 1, after: '1; DROP TABLE events', f: fingerprint })],
    ['an extra member', forge({ v: 1, after: '1', f: fingerprint, tenantId: OTHER })],
    ['another query’s cursor', encodeCursor(5n, filterFingerprint(TENANT, {}))],
    ['another tenant’s cursor', encodeCursor(5n, filterFingerprint(OTHER, { types: ['A'] }))],
    ['an over-long cursor', 'A'.repeat(300)],
  ])('refuses %s with a 400 invalid-cursor', (_name, cursor) => {
    const error = refusal(cursor, fingerprint);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error.status).toBe(400);
    expect(error.slug).toBe('invalid-cursor');
  });
});
