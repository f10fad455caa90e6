/**
 * Integration proof that polling uSNChanged (with show-deleted) reads on-premises AD changes the
 * way DirSync does, against the stack's Samba AD DC, as the least-privilege sync account; and that
 * `auto` polls when the directory refuses DirSync to the account bound.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'ldapts';
import { readChangePages, type ChangePage } from './change-detection';
import type { DirectoryEntry } from './dirsync.reader';
import { readDomainControllerPosition, readUsnChangedPages, type UsnChangedPage } from './usn-changed.reader';
import { decodeUsnWatermark, encodeUsnWatermark } from './usn-watermark';
import { ldapsClient, samba, SambaAdmin } from './testing/samba-admin';

jest.setTimeout(120_000);

async function poll(client: Client, watermark?: Buffer) {
  const entries: DirectoryEntry[] = [];
  let last: UsnChangedPage | undefined;
  for await (const page of readUsnChangedPages(client, samba().baseDn, watermark)) {
    entries.push(...page.entries);
    last = page;
  }
  return {
    entries,
    watermark: (last as UsnChangedPage).cookie,
    fullResync: (last as UsnChangedPage).fullResync,
  };
}

const hex = (entry: DirectoryEntry) => entry.objectGuid.toString('hex');
const attribute = (entry: DirectoryEntry | undefined, name: string) => entry?.attributes[name];

describe('uSNChanged polling against the Samba AD DC, as the sync service account', () => {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const testUser = (role: string) => {
    const sam = `us${role}-${runId}`; // sAMAccountName allows 20 characters
    const realm = samba().realm.toLowerCase();
    return { sam, dn: `CN=${sam},${samba().usersOu}`, upn: `${sam}@${realm}`, guid: '' };
  };
  const toChange = testUser('chg');
  const toDelete = testUser('del');

  let sync: Client;
  let admin: SambaAdmin;
  let watermark: Buffer;
  // Objects this run has seen; other suites may change the same DC meanwhile.
  const known = new Set<string>();
  const ours = (entries: DirectoryEntry[]) => entries.filter((e) => known.has(hex(e)));

  beforeAll(async () => {
    sync = ldapsClient();
    admin = await SambaAdmin.connect();
    // Bind before the first poll: a first logon stamps lastLogonTimestamp, a change of its own.
    await sync.bind(samba().sync.bindDn, samba().sync.bindPassword);
  });

  afterAll(async () => {
    if (admin) {
      for (const user of [toChange, toDelete]) await admin.deleteIfPresent(user.dn);
      await admin.close();
    }
    if (sync) await sync.unbind();
  });

  it('a first poll reads the whole directory, whole objects, and a watermark of this DC database', async () => {
    const before = await readDomainControllerPosition(sync);
    const first = await poll(sync);

    expect(first.fullResync).toBe(true);
    const names = first.entries.flatMap((e) => attribute(e, 'sAMAccountName') ?? []);
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    const alice = first.entries.find((e) => attribute(e, 'sAMAccountName')?.[0] === 'alice');
    expect(attribute(alice, 'isDeleted')).toEqual([]); // whole: absent means not deleted
    expect(attribute(alice, 'userPrincipalName')).toEqual([`alice@${samba().realm.toLowerCase()}`]);
    const stored = decodeUsnWatermark(first.watermark);
    expect(stored?.invocationId).toBe(before.invocationId);
    expect(stored?.usn).toBeGreaterThanOrEqual(before.highestCommittedUsn);
    for (const entry of first.entries) known.add(hex(entry));
    watermark = first.watermark;
  });

  it('after an admin creates two users, the next poll returns both, enabled, with their objectGUIDs', async () => {
    await admin.createUser(toChange.dn, toChange.sam, toChange.upn);
    await admin.createUser(toDelete.dn, toDelete.sam, toDelete.upn);

    const delta = await poll(sync, watermark);

    expect(delta.fullResync).toBe(false);
    for (const user of [toChange, toDelete]) {
      const entry = delta.entries.find((e) => e.dn === user.dn);
      expect(attribute(entry, 'userAccountControl')).toEqual(['512']);
      expect(attribute(entry, 'userPrincipalName')).toEqual([user.upn]);
      user.guid = hex(entry as DirectoryEntry);
      known.add(user.guid);
    }
    expect(decodeUsnWatermark(delta.watermark)?.usn).toBeGreaterThan(
      decodeUsnWatermark(watermark)?.usn ?? 0n,
    );
    watermark = delta.watermark;
  });

  it('R15: disabling a user: the next poll returns only that user, with userAccountControl 514', async () => {
    await admin.setDisabled(toChange.dn, true);

    const delta = await poll(sync, watermark);

    const changed = ours(delta.entries);
    expect(changed.map(hex)).toEqual([toChange.guid]);
    expect(attribute(changed[0], 'userAccountControl')).toEqual(['514']);
    watermark = delta.watermark;
  });

  it('a UPN change: the next poll returns only that user, whole, under its new UPN', async () => {
    const renamed = `ren-${runId}@${samba().realm.toLowerCase()}`;
    await admin.setUpn(toChange.dn, renamed);

    const delta = await poll(sync, watermark);

    const changed = ours(delta.entries);
    expect(changed.map(hex)).toEqual([toChange.guid]);
    expect(attribute(changed[0], 'userPrincipalName')).toEqual([renamed]);
    expect(attribute(changed[0], 'userAccountControl')).toEqual(['514']); // unchanged, but there
    watermark = delta.watermark;
  });

  it('R15: deleting a user: show-deleted returns its tombstone (isDeleted TRUE, same objectGUID, in Deleted Objects)', async () => {
    await admin.deleteIfPresent(toDelete.dn);

    const delta = await poll(sync, watermark);

    const changed = ours(delta.entries);
    expect(changed.map(hex)).toEqual([toDelete.guid]);
    const [tombstone] = changed;
    expect(attribute(tombstone, 'isDeleted')).toEqual(['TRUE']);
    expect(tombstone.dn).toMatch(/\\0ADEL:.*,CN=Deleted Objects,/);
    expect(tombstone.dn).toContain(toDelete.sam);
    watermark = delta.watermark;
  });

  it('with nothing changed since, the next poll is empty of known objects', async () => {
    const delta = await poll(sync, watermark);

    expect(ours(delta.entries)).toEqual([]);
    expect(delta.fullResync).toBe(false);
  });

  it('a watermark of another invocationId (a restored DC) reads everything again, from USN 0', async () => {
    const { usn } = decodeUsnWatermark(watermark) as { usn: bigint };
    const foreign = encodeUsnWatermark({ invocationId: randomUUID(), usn });

    const resync = await poll(sync, foreign);

    expect(resync.fullResync).toBe(true);
    const seen = new Set(resync.entries.map(hex));
    expect(seen.has(toChange.guid)).toBe(true);
    expect(seen.has(toDelete.guid)).toBe(true); // the tombstone too
    const alice = resync.entries.find((e) => attribute(e, 'sAMAccountName')?.[0] === 'alice');
    expect(alice).toBeDefined();
    const position = await readDomainControllerPosition(sync);
    expect(decodeUsnWatermark(resync.watermark)?.invocationId).toBe(position.invocationId);
  });
});

describe('auto change detection against a directory that refuses DirSync to the account', () => {
  const sam = `usplain-${Date.now().toString(36)}`;
  const dn = `CN=${sam},${samba().usersOu}`;
  let admin: SambaAdmin;
  let plain: Client;

  beforeAll(async () => {
    admin = await SambaAdmin.connect();
    // An ordinary user: no "Replicating Directory Changes", so Samba refuses it DirSync.
    const password = await admin.createUser(dn, sam, `${sam}@${samba().realm.toLowerCase()}`);
    plain = ldapsClient();
    await plain.bind(dn, password);
  });

  afterAll(async () => {
    await plain?.unbind();
    await admin?.deleteIfPresent(dn);
    await admin?.close();
  });

  it('polls uSNChanged for the pass, and says the directory refused DirSync', async () => {
    const pages: ChangePage[] = [];
    for await (const page of readChangePages(plain, samba().baseDn, 'auto', undefined)) pages.push(page);

    expect(new Set(pages.map((p) => p.mode))).toEqual(new Set(['usn']));
    expect(pages[0].dirSyncRefused).toMatch(/insufficient access/i);
    const names = pages.flatMap((p) => p.entries).flatMap((e) => attribute(e, 'sAMAccountName') ?? []);
    expect(names).toEqual(expect.arrayContaining(['alice', sam]));
  });

  it('dirsync alone fails the pass instead', async () => {
    const pages = readChangePages(plain, samba().baseDn, 'dirsync', undefined);
    await expect(pages.next()).rejects.toThrow(/insufficient access/i);
  });
});
