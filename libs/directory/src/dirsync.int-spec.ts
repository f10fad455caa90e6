/**
 * Integration proof that DirSyncControl reads on-premises AD changes the way Entra Connect does,
 * against the stack's Samba AD DC (start it with the stack tool first).
 *
 * The sync worker's least-privilege service account does the reading; the domain Administrator
 * plays the on-premises admin who creates, disables and deletes users.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Attribute, Change, Client, Entry, NoSuchObjectError } from 'ldapts';
import { DirSyncControl } from './dirsync.control';

jest.setTimeout(30_000);

const repoRoot = path.resolve(__dirname, '../../..');
const env = (name: string, fallback: string): string => process.env[name] || fallback;

const config = {
  url: env('LDAP_URL', 'ldaps://127.0.0.1:636'),
  baseDn: env('LDAP_BASE_DN', 'DC=latchkey,DC=test'),
  usersOu: env('LDAP_USERS_OU', 'OU=Staff,DC=latchkey,DC=test'),
  bindDn: env('LDAP_BIND_DN', 'CN=latchkey-sync,OU=Service Accounts,DC=latchkey,DC=test'),
  bindPassword: env('LDAP_BIND_PASSWORD', 'Latchkey-Sync-2026!'),
  caFile: path.resolve(repoRoot, env('LDAP_CA_FILE', '.stack/samba/private/tls/ca.pem')),
  realm: env('SAMBA_REALM', 'LATCHKEY.TEST'),
  adminPassword: env('SAMBA_ADMIN_PASSWORD', 'Latchkey-Admin-2026!'),
};

const UAC_NORMAL_ACCOUNT = 0x200; // 512: enabled
const UAC_DISABLED = UAC_NORMAL_ACCOUNT | 0x2; // 514

interface TestUser {
  sam: string;
  dn: string;
  guid?: Buffer;
}

function connect(): Client {
  if (!existsSync(config.caFile)) {
    throw new Error(`No CA file at ${config.caFile}: is the stack's Samba DC up?`);
  }
  return new Client({
    url: config.url,
    tlsOptions: { ca: [readFileSync(config.caFile)] },
    connectTimeout: 5_000,
    timeout: 15_000,
  });
}

/** One complete DirSync read from `cookie`: searches again while the server has more. */
async function dirSync(client: Client, cookie?: Buffer): Promise<{ entries: Entry[]; cookie: Buffer }> {
  const control = new DirSyncControl({ cookie });
  const entries: Entry[] = [];
  do {
    const { searchEntries } = await client.search(
      config.baseDn,
      {
        scope: 'sub',
        filter: '(objectClass=user)',
        attributes: ['objectGUID', 'name', 'sAMAccountName', 'userAccountControl', 'isDeleted'],
        explicitBufferAttributes: ['objectGUID'],
      },
      [control],
    );
    entries.push(...searchEntries);
  } while (control.moreResults);
  return { entries, cookie: control.cookie };
}

const guidOf = (entry: Entry): Buffer => entry.objectGUID as Buffer;

/** AD takes a password as the UTF-16LE encoding of the password in double quotes, over TLS only. */
const unicodePwd = (password: string): Buffer => Buffer.from(`"${password}"`, 'utf16le');

async function createEnabledUser(admin: Client, user: TestUser): Promise<void> {
  await admin.add(user.dn, [
    new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
    new Attribute({ type: 'sAMAccountName', values: [user.sam] }),
    new Attribute({ type: 'userPrincipalName', values: [`${user.sam}@${config.realm.toLowerCase()}`] }),
    new Attribute({
      type: 'unicodePwd',
      values: [unicodePwd(`Dirsync-${randomBytes(6).toString('hex')}-1a!`)],
    }),
    new Attribute({ type: 'userAccountControl', values: [String(UAC_NORMAL_ACCOUNT)] }),
  ]);
}

async function deleteIfPresent(admin: Client, dn: string): Promise<void> {
  try {
    await admin.del(dn);
  } catch (error) {
    if (!(error instanceof NoSuchObjectError)) throw error;
  }
}

describe('DirSync against the Samba AD DC, as the least-privilege sync service account', () => {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const testUser = (role: string): TestUser => {
    const sam = `ds${role}-${runId}`; // sAMAccountName allows 20 characters
    return { sam, dn: `CN=${sam},${config.usersOu}` };
  };
  const toDisable = testUser('dis');
  const toDelete = testUser('del');

  let sync: Client;
  let admin: Client;
  let cookie: Buffer;
  // Objects this run has seen. Jest may run other suites against the same DC at the same time;
  // the "only that user" assertions ignore objects those suites create meanwhile.
  const known = new Set<string>();
  const isKnown = (entry: Entry): boolean => known.has(guidOf(entry).toString('hex'));

  beforeAll(async () => {
    sync = connect();
    admin = connect();
    // Bind both before the first DirSync: a first logon stamps lastLogonTimestamp, a replicated
    // change that would otherwise show up in a later delta.
    await sync.bind(config.bindDn, config.bindPassword);
    await admin.bind(`Administrator@${config.realm}`, config.adminPassword);
  });

  afterAll(async () => {
    if (admin) {
      for (const user of [toDisable, toDelete]) await deleteIfPresent(admin, user.dn);
      await admin.unbind();
    }
    if (sync) await sync.unbind();
  });

  it('a first DirSync pass returns the whole directory, seed users included, and a cookie', async () => {
    const first = await dirSync(sync);

    expect(first.cookie.length).toBeGreaterThan(0);
    const names = first.entries.map((e) => e.sAMAccountName);
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    for (const entry of first.entries) {
      expect(Buffer.isBuffer(entry.objectGUID)).toBe(true);
      expect(guidOf(entry)).toHaveLength(16);
      known.add(guidOf(entry).toString('hex'));
    }
    cookie = first.cookie;
  });

  it('the delta after an admin creates two users returns both, with their objectGUIDs', async () => {
    await createEnabledUser(admin, toDisable);
    await createEnabledUser(admin, toDelete);

    const delta = await dirSync(sync, cookie);

    for (const user of [toDisable, toDelete]) {
      const entry = delta.entries.find((e) => e.dn === user.dn);
      expect(entry).toBeDefined();
      expect(entry?.userAccountControl).toBe(String(UAC_NORMAL_ACCOUNT));
      user.guid = guidOf(entry as Entry);
      known.add(user.guid.toString('hex'));
    }
    expect(delta.cookie.equals(cookie)).toBe(false);
    cookie = delta.cookie;
  });

  it('disabling a user: the next delta returns only that user, with userAccountControl 514', async () => {
    await admin.modify(
      toDisable.dn,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'userAccountControl', values: [String(UAC_DISABLED)] }),
      }),
    );

    const delta = await dirSync(sync, cookie);

    const changed = delta.entries.filter(isKnown);
    expect(changed.map((e) => e.dn)).toEqual([toDisable.dn]);
    expect(changed[0].userAccountControl).toBe('514');
    expect(guidOf(changed[0]).equals(toDisable.guid as Buffer)).toBe(true);
    cookie = delta.cookie;
  });

  it('deleting a user: the next delta returns its tombstone (isDeleted TRUE, same objectGUID, in Deleted Objects)', async () => {
    await admin.del(toDelete.dn);

    const delta = await dirSync(sync, cookie);

    const changed = delta.entries.filter(isKnown);
    expect(changed).toHaveLength(1);
    const [tombstone] = changed;
    expect(guidOf(tombstone).equals(toDelete.guid as Buffer)).toBe(true);
    expect(tombstone.isDeleted).toBe('TRUE');
    // AD renames a deleted object to "<name>\0ADEL:<guid>" and moves it to CN=Deleted Objects.
    expect(tombstone.dn).toMatch(/\\0ADEL:|CN=Deleted Objects,/);
    expect(tombstone.dn).toContain(toDelete.sam);
    cookie = delta.cookie;
  });

  it('with nothing changed since, the next delta is empty of known objects', async () => {
    const delta = await dirSync(sync, cookie);

    expect(delta.entries.filter(isKnown)).toEqual([]);
  });
});
