import { ProblemError } from '@latchkey/problems';
import { decodeUserCursor, encodeUserCursor, likePrefix } from './list-users';

const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');

function refusal(cursor: string, prefix?: string) {
  try {
    decodeUserCursor(cursor, prefix);
  } catch (error) {
    return error instanceof ProblemError ? `${error.status} ${error.slug}` : error;
  }
  return 'accepted';
}

describe('the users page', () => {
  it('takes LIKE metacharacters in a prefix literally', () => {
    expect(likePrefix('a_b')).toBe('a\\_b%');
    expect(likePrefix('50%')).toBe('50\\%%');
    expect(likePrefix('back\\slash')).toBe('back\\\\slash%');
  });

  it('resumes after the username its cursor carries, for the prefix it was issued for', () => {
    const cursor = encodeUserCursor('bob@contoso.test', 'b');
    expect(decodeUserCursor(cursor, 'b')).toBe('bob@contoso.test');
    expect(decodeUserCursor(encodeUserCursor('bob@contoso.test', undefined), undefined)).toBe(
      'bob@contoso.test',
    );
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['base64 that is not JSON', 'bm90LWEtY3Vyc29y'],
    ['an array', forge(['x'])],
    ['another version', forge({ v: 2, after: 'a', p: '' })],
    ['an extra member naming a tenant', forge({ v: 1, after: 'a', p: '', tenantId: 'x' })],
    ['a number for after', forge({ v: 1, after: 5, p: '' })],
    ['an empty after', forge({ v: 1, after: '', p: '' })],
    ['a NUL in after', forge({ v: 1, after: 'a\u0000', p: '' })],
    ['a lone surrogate in after', forge({ v: 1, after: 'a\ud800', p: '' })],
    ['an over-long cursor', 'A'.repeat(2000)],
  ])('answers 400 invalid-cursor for %s', (_name, cursor) => {
    expect(refusal(cursor)).toBe('400 invalid-cursor');
  });

  it('answers 400 for a cursor replayed with another prefix', () => {
    expect(refusal(encodeUserCursor('bob@contoso.test', 'b'), 'c')).toBe('400 invalid-cursor');
    expect(refusal(encodeUserCursor('bob@contoso.test', 'b'))).toBe('400 invalid-cursor');
  });
});
