import { equalityFilter, escapeFilterValue } from './ldap-filter';

describe('LDAP filter values (RFC 4515)', () => {
  it.each([
    ['*)(uid=*', '\\2a\\29\\28uid=\\2a'],
    ['alice\\', 'alice\\5c'],
    ['a\0b', 'a\\00b'],
    ['(admin)', '\\28admin\\29'],
    ['Zoë Ünal', 'Zoë Ünal'],
  ])('escapes %j', (value, escaped) => {
    expect(escapeFilterValue(value)).toBe(escaped);
  });

  it('cannot be broken out of: an injected filter stays one equality value', () => {
    const filter = equalityFilter('userPrincipalName', 'x)(|(objectClass=*)');
    expect(filter).toBe('(userPrincipalName=x\\29\\28|\\28objectClass=\\2a\\29)');
    expect([...filter].filter((c) => c === '(' || c === ')')).toEqual(['(', ')']);
  });

  it('refuses an attribute name that is not one', () => {
    expect(() => equalityFilter('cn)(objectClass', 'x')).toThrow(/not an attribute name/);
  });
});
