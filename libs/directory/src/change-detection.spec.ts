import {
  BusyError,
  InsufficientAccessError,
  UnavailableCriticalExtensionError,
  UnwillingToPerformError,
  type Client,
  type Control,
  type Entry,
  type SearchOptions,
} from 'ldapts';
import {
  readChangePages,
  type ChangeDetection,
  type ChangePage,
  type StoredCookie,
} from './change-detection';
import { DirSyncControl } from './dirsync.control';
import { orderingFilter } from './ldap-filter';
import { readUsnChangedPages, resumeAfter, SHOW_DELETED_OID, usnChangedFilter } from './usn-changed.reader';
import { decodeUsnWatermark, encodeUsnWatermark } from './usn-watermark';

const INVOCATION_ID = '43037a05-f26e-412e-80af-42d85d0198f7';
const INVOCATION_BYTES = Buffer.from('057a03436ef22e4180af42d85d0198f7', 'hex');
const NTDS = 'CN=NTDS Settings,CN=DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration,DC=contoso,DC=test';
const NC = 'DC=contoso,DC=test';

const user = (n: number, extra: Record<string, string | string[]> = {}): Entry => ({
  dn: `CN=user${n},OU=Staff,${NC}`,
  objectGUID: Buffer.alloc(16, n),
  objectClass: ['top', 'person', 'organizationalPerson', 'user'],
  userAccountControl: '512',
  userPrincipalName: `user${n}@contoso.test`,
  ...extra,
});

/**
 * A directory as ldapts shows it: the rootDSE, the NTDS Settings object, DirSync (or its refusal)
 * and paged uSNChanged searches. Records what was asked.
 */
class FakeDirectory {
  highestCommittedUsn = '5000';
  invocationId: Buffer | string[] = INVOCATION_BYTES;
  dirSync: Error | Entry[] = [];
  usnPages: Entry[][] = [[]];
  readonly searches: Array<{ base: string; options: SearchOptions; controls: Control[] }> = [];
  /** Answers a DirSync search that carries a cookie as Samba does for one it never issued. */
  refuseCookies = false;

  asClient(): Client {
    return this as unknown as Client;
  }

  async search(base: string, options: SearchOptions, controls: Control[] = []) {
    this.searches.push({ base, options, controls });
    if (base === '') {
      return {
        searchEntries: [{ dn: '', highestCommittedUSN: this.highestCommittedUsn, dsServiceName: NTDS }],
      };
    }
    if (base === NTDS) return { searchEntries: [{ dn: NTDS, invocationId: this.invocationId }] };
    if (!controls.some((c) => c instanceof DirSyncControl)) throw new Error(`unexpected search of ${base}`);
    if (this.dirSync instanceof Error) throw this.dirSync;
    const sent = controls.find((c): c is DirSyncControl => c instanceof DirSyncControl);
    if (this.refuseCookies && sent && sent.cookie.length > 0)
      throw new UnavailableCriticalExtensionError('cookie from another DC');
    // As a directory that answers with the DirSync response control (no more results).
    for (const control of controls) if (control instanceof DirSyncControl) control.answered = true;
    return { searchEntries: this.dirSync };
  }

  async *searchPaginated(base: string, options: SearchOptions, controls: Control[] = []) {
    this.searches.push({ base, options, controls });
    for (const page of this.usnPages) yield { searchEntries: page, searchReferences: [] };
  }

  dirSyncCookieSent(): Buffer | undefined {
    const search = this.searches.find((s) => s.controls.some((c) => c instanceof DirSyncControl));
    return search?.controls.find((c): c is DirSyncControl => c instanceof DirSyncControl)?.cookie;
  }

  usnFilter(): string | undefined {
    return this.searches.find((s) => s.options.paged)?.options.filter as string | undefined;
  }
}

async function readAll(
  directory: FakeDirectory,
  detection: ChangeDetection,
  stored?: StoredCookie,
): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of readChangePages(directory.asClient(), NC, detection, stored)) pages.push(page);
  return pages;
}

describe('uSNChanged polling: filter and resume point', () => {
  it('selects user objects changed in a USN range, bounds escaped as filter values', () => {
    expect(usnChangedFilter(12_976n, 13_500n)).toBe(
      '(&(objectClass=user)(uSNChanged>=12976)(uSNChanged<=13500))',
    );
    expect(usnChangedFilter(1n, 2n ** 63n - 1n)).toBe(
      '(&(objectClass=user)(uSNChanged>=1)(uSNChanged<=9223372036854775807))',
    );
  });

  it('an ordering filter escapes its value and refuses a name that is not an attribute (RFC 4515)', () => {
    expect(orderingFilter('uSNChanged', '>=', '1)(objectClass=*')).toBe(
      '(uSNChanged>=1\\29\\28objectClass=\\2a)',
    );
    expect(() => orderingFilter('uSNChanged>=0)(cn', '<=', '1')).toThrow(/not an attribute name/);
  });

  const dc = { invocationId: INVOCATION_ID, highestCommittedUsn: 5_000n };
  it('resumes after the stored USN of the same DC database', () => {
    expect(resumeAfter({ invocationId: INVOCATION_ID, usn: 4_200n }, dc)).toEqual({
      after: 4_200n,
      fullResync: false,
    });
  });

  it.each([
    ['no watermark', undefined],
    [
      'a watermark of another invocationId (DC restored, or another DC)',
      { invocationId: '00000000-0000-4000-8000-000000000001', usn: 4_200n },
    ],
    ['a watermark ahead of the DC', { invocationId: INVOCATION_ID, usn: 5_001n }],
  ])('reads everything again from USN 0 with %s', (_, stored) => {
    expect(resumeAfter(stored, dc)).toEqual({ after: 0n, fullResync: true });
  });
});

describe('uSNChanged polling: the reader', () => {
  it('searches the naming context with show-deleted and paging, up to highestCommittedUSN read first', async () => {
    const directory = new FakeDirectory();
    const stored = encodeUsnWatermark({ invocationId: INVOCATION_ID, usn: 4_200n });
    const pages = [];
    for await (const page of readUsnChangedPages(directory.asClient(), NC, stored)) pages.push(page);

    const search = directory.searches.find((s) => s.options.paged);
    expect(search?.base).toBe(NC);
    expect(search?.options).toMatchObject({
      scope: 'sub',
      filter: '(&(objectClass=user)(uSNChanged>=4201)(uSNChanged<=5000))',
      explicitBufferAttributes: ['objectGUID'],
    });
    expect(search?.options.attributes).toEqual(
      expect.arrayContaining(['objectGUID', 'isDeleted', 'uSNChanged']),
    );
    const [showDeleted] = search?.controls ?? [];
    expect(showDeleted).toMatchObject({ type: SHOW_DELETED_OID, critical: true });
    expect(pages).toHaveLength(1);
    expect(pages[0].fullResync).toBe(false);
    expect(decodeUsnWatermark(pages[0].cookie)).toEqual({ invocationId: INVOCATION_ID, usn: 5_000n });
  });

  it('only the last page carries the new watermark; earlier ones carry the point the read resumed from', async () => {
    const directory = new FakeDirectory();
    directory.usnPages = [[user(1)], [user(2)], [user(3)]];
    const stored = encodeUsnWatermark({ invocationId: INVOCATION_ID, usn: 4_200n });
    const pages = [];
    for await (const page of readUsnChangedPages(directory.asClient(), NC, stored)) pages.push(page);

    expect(pages.map((p) => p.moreResults)).toEqual([true, true, false]);
    expect(pages.map((p) => decodeUsnWatermark(p.cookie)?.usn)).toEqual([4_200n, 4_200n, 5_000n]);
    expect(pages.flatMap((p) => p.entries.map((e) => e.dn))).toEqual([1, 2, 3].map((n) => user(n).dn));
  });

  it('a watermark of another invocationId means a full resync from USN 0', async () => {
    const directory = new FakeDirectory();
    const stored = encodeUsnWatermark({ invocationId: '00000000-0000-4000-8000-000000000001', usn: 4_200n });
    const pages = [];
    for await (const page of readUsnChangedPages(directory.asClient(), NC, stored)) pages.push(page);

    expect(directory.usnFilter()).toBe('(&(objectClass=user)(uSNChanged>=1)(uSNChanged<=5000))');
    expect(pages[0].fullResync).toBe(true);
    expect(decodeUsnWatermark(pages[0].cookie)).toEqual({ invocationId: INVOCATION_ID, usn: 5_000n });
  });

  it('hands objects over whole: an attribute the object lacks is an empty list, never missing', async () => {
    const directory = new FakeDirectory();
    const { userPrincipalName: _, ...withoutUpn } = user(1);
    directory.usnPages = [[withoutUpn]];
    const [page] = await readAll(directory, 'usn');

    expect(page.entries[0].attributes).toMatchObject({
      userPrincipalName: [],
      isDeleted: [],
      userAccountControl: ['512'],
    });
  });

  it('refuses a directory that does not say where it stands, rather than guess a watermark', async () => {
    const noUsn = new FakeDirectory();
    noUsn.highestCommittedUsn = 'lots';
    await expect(readAll(noUsn, 'usn')).rejects.toThrow(/highestCommittedUSN/);
    const noInvocationId = new FakeDirectory();
    noInvocationId.invocationId = [];
    await expect(readAll(noInvocationId, 'usn')).rejects.toThrow(/invocationId/);
    expect([...noUsn.searches, ...noInvocationId.searches].some((s) => s.options.paged)).toBe(false);
  });
});

describe('choosing how to read a directory', () => {
  const dirSyncCookie: StoredCookie = { mode: 'dirsync', cookie: Buffer.from('MSDS-cookie') };
  const usnCookie: StoredCookie = {
    mode: 'usn',
    cookie: encodeUsnWatermark({ invocationId: INVOCATION_ID, usn: 4_200n }),
  };

  it('auto reads with DirSync from the stored DirSync cookie while the directory accepts it', async () => {
    const directory = new FakeDirectory();
    directory.dirSync = [user(1)];
    const pages = await readAll(directory, 'auto', dirSyncCookie);

    expect(pages.map((p) => p.mode)).toEqual(['dirsync']);
    expect(directory.dirSyncCookieSent()).toEqual(dirSyncCookie.cookie);
    expect(directory.usnFilter()).toBeUndefined();
  });

  it.each([
    ['unavailableCriticalExtension', new UnavailableCriticalExtensionError('dirsync unknown')],
    ['unwillingToPerform', new UnwillingToPerformError('dirsync disabled')],
    ['insufficientAccessRights', new InsufficientAccessError('no Replicating Directory Changes')],
  ])(
    'auto polls uSNChanged for the pass when the directory refuses DirSync (%s), and says why',
    async (_, refusal) => {
      const directory = new FakeDirectory();
      directory.dirSync = refusal;
      directory.usnPages = [[user(1)]];
      const pages = await readAll(directory, 'auto', usnCookie);

      expect(pages.map((p) => p.mode)).toEqual(['usn']);
      expect(pages[0].dirSyncRefused).toBe(refusal.message);
      expect(pages[0].entries.map((e) => e.dn)).toEqual([user(1).dn]);
      expect(directory.usnFilter()).toBe('(&(objectClass=user)(uSNChanged>=4201)(uSNChanged<=5000))');
    },
  );

  it('a cookie stored by one mode is never fed to the other: each reads from the start instead', async () => {
    const afterDirSync = new FakeDirectory();
    afterDirSync.dirSync = new InsufficientAccessError('no rights');
    const [polled] = await readAll(afterDirSync, 'auto', dirSyncCookie);
    expect(polled).toMatchObject({ mode: 'usn', fullResync: true });
    expect(afterDirSync.usnFilter()).toBe('(&(objectClass=user)(uSNChanged>=1)(uSNChanged<=5000))');

    const afterPolling = new FakeDirectory();
    const [synced] = await readAll(afterPolling, 'dirsync', usnCookie);
    expect(synced).toMatchObject({ mode: 'dirsync', fullResync: true });
    expect(afterPolling.dirSyncCookieSent()).toEqual(Buffer.alloc(0));
  });

  it.each(['dirsync', 'auto'] as const)(
    '%s: a stored cookie the DC refuses is dropped for one DirSync read from scratch, never a pass failing forever',
    async (detection) => {
      const directory = new FakeDirectory();
      directory.refuseCookies = true;
      directory.dirSync = [user(1)];
      const pages = await readAll(directory, detection, dirSyncCookie);

      expect(pages).toMatchObject([{ mode: 'dirsync', fullResync: true }]);
      expect(pages[0].cookieRefused).toContain('cookie from another DC');
      const cookiesSent = directory.searches.flatMap((s) =>
        s.controls.filter((c): c is DirSyncControl => c instanceof DirSyncControl).map((c) => c.cookie),
      );
      // One control per read: the first carried the stored cookie, the second none.
      expect(cookiesSent).toEqual([dirSyncCookie.cookie, Buffer.alloc(0)]);
      expect(directory.usnFilter()).toBeUndefined();
    },
  );

  it('dirsync never falls back: a refusal fails the pass', async () => {
    const directory = new FakeDirectory();
    directory.dirSync = new InsufficientAccessError('no rights');
    await expect(readAll(directory, 'dirsync')).rejects.toBeInstanceOf(InsufficientAccessError);
    expect(directory.usnFilter()).toBeUndefined();
  });

  it('auto does not mistake a directory that is busy or away for one that refuses DirSync', async () => {
    const directory = new FakeDirectory();
    directory.dirSync = new BusyError('busy');
    await expect(readAll(directory, 'auto')).rejects.toBeInstanceOf(BusyError);
    expect(directory.usnFilter()).toBeUndefined();
  });

  it('B6: both ways of reading ask for pwdLastSet (when the password was last set), never a password attribute', async () => {
    const synced = new FakeDirectory();
    await readAll(synced, 'dirsync');
    const polled = new FakeDirectory();
    await readAll(polled, 'usn');
    const asked = [
      synced.searches.find((s) => s.controls.some((c) => c instanceof DirSyncControl)),
      polled.searches.find((s) => s.options.paged),
    ].map((search) => search?.options.attributes ?? []);
    for (const attributes of asked) {
      expect(attributes).toContain('pwdLastSet');
      const secret = /pwd|password|credential|secret/i;
      expect(attributes.filter((name) => secret.test(name))).toEqual(['pwdLastSet']);
    }
  });

  it('usn never tries DirSync', async () => {
    const directory = new FakeDirectory();
    const pages = await readAll(directory, 'usn', dirSyncCookie);
    expect(pages.map((p) => p.mode)).toEqual(['usn']);
    expect(directory.dirSyncCookieSent()).toBeUndefined();
  });
});
