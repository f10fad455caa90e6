import { isTombstoneDn, isUnderDn, parseDn } from './distinguished-name';

describe('distinguished names', () => {
  it('compares case-insensitively, ignoring spaces around separators', () => {
    expect(parseDn('CN=Alice Smith, OU=Staff ,DC=Contoso,DC=example')).toEqual(
      parseDn('cn=alice smith,ou=staff,dc=contoso,dc=EXAMPLE'),
    );
  });

  it('decodes escapes, so \\, and \\2C are one DN, and keeps escaped commas inside the value', () => {
    const escaped = parseDn('CN=Smith\\, Alice,OU=Staff,DC=contoso,DC=example');
    expect(escaped).toEqual(parseDn('CN=Smith\\2C Alice,OU=Staff,DC=contoso,DC=example'));
    expect(escaped).toHaveLength(4);
    expect(escaped?.[0]).toBe('cn=smith, alice');
    expect(parseDn('CN=J\\C3\\A9r\\C3\\B4me,DC=example')?.[0]).toBe('cn=jérôme');
  });

  it('says what is under a base, at RDN boundaries only', () => {
    const base = parseDn('OU=Staff,DC=contoso,DC=example')!;
    expect(isUnderDn(parseDn('CN=Alice,OU=Staff,DC=contoso,DC=example')!, base)).toBe(true);
    expect(isUnderDn(parseDn('CN=Alice,OU=Former Staff,DC=contoso,DC=example')!, base)).toBe(false);
    expect(isUnderDn(parseDn('CN=Alice,OU=Staff,DC=fabrikam,DC=example')!, base)).toBe(false);
    expect(isUnderDn(parseDn('DC=example')!, base)).toBe(false);
  });

  it('recognises AD tombstones', () => {
    expect(
      isTombstoneDn(
        parseDn('CN=Alice\\0ADEL:5b7f6c2e-1d9a-4cd4-8e2b-0011223344ff,CN=Deleted Objects,DC=example')!,
      ),
    ).toBe(true);
    expect(isTombstoneDn(parseDn('CN=Alice,CN=Deleted Objects,DC=example')!)).toBe(false);
    expect(isTombstoneDn(parseDn('CN=Alice\\0ADEL:x,OU=Staff,DC=example')!)).toBe(false);
  });

  it('refuses what does not parse rather than guessing', () => {
    for (const bad of [
      '',
      'Alice',
      'CN=',
      '=Alice',
      'CN=Alice,',
      'CN=Alice\\',
      'CN=\\FF',
      'C N=x',
      42,
      null,
    ]) {
      expect(parseDn(bad)).toBeUndefined();
    }
    expect(parseDn(`CN=${'a'.repeat(5000)}`)).toBeUndefined();
  });
});
