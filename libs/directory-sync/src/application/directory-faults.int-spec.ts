import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, createServer, type Server, type TLSSocket } from 'node:tls';
import { resolve } from 'node:path';
import { getQueueToken } from '@nestjs/bull';
import type { INestApplication } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Queue } from 'bull';
import { Attribute, Change, type Client } from 'ldapts';
import { RunTenantCommand } from '@latchkey/app-passwords';
import { JobsModule } from '@latchkey/jobs';
import { DataSource } from 'typeorm';
import { ldapsClient, samba } from '../../../directory/src/testing/samba-admin';
import { pendingChanges } from '../domain';
import { DIRECTORY_CHANGES_QUEUE } from './change-scheduler';
import { ConnectDirectory } from './connect-directory';
import { DirectorySyncStreams } from './directory-sync.streams';
import { DirectorySyncWorkerModule, SyncScheduler } from './sync-worker';
import { startIntegrationApp } from '../../../../test/integration-app';

const DIRSYNC_OID = Buffer.from('1.2.840.113556.1.4.841');
const SEARCH_REQUEST = 0x63;
const SEARCH_RESULT_ENTRY = 0x64;
const SEARCH_RESULT_DONE = 0x65;

/** What the directory does to one DirSync search, once, after it is armed. */
type Fault =
  /** Ends the search with this LDAP result code after `afterEntries` entries; drops the rest. */
  | { kind: 'result'; afterEntries: number; resultCode: number; message: string }
  /** Sends `afterEntries` entries and half of the next one, then drops the connection. */
  | { kind: 'cut'; afterEntries: number }
  /** Sends every entry, and the final result without its DirSync response control. */
  | { kind: 'no-control' };

/** One BER element at `at`: its tag and where its contents start and end (undefined: incomplete). */
function element(buffer: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > buffer.length) return undefined;
  let length = buffer[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (start + bytes > buffer.length) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + buffer[start + i];
    start += bytes;
  }
  return { tag: buffer[at], start, end: start + length };
}

const berLength = (n: number): Buffer =>
  n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
const tlv = (tag: number, contents: Buffer): Buffer =>
  Buffer.concat([Buffer.from([tag]), berLength(contents.length), contents]);

interface LdapMessage {
  raw: Buffer;
  id: number;
  /** The messageID element as sent, to answer with the same bytes. */
  idElement: Buffer;
  op: number;
  /** The protocol operation element, without the controls after it. */
  opElement: Buffer;
}

function parseMessage(raw: Buffer): LdapMessage {
  const outer = element(raw, 0)!;
  const id = element(raw, outer.start)!;
  const op = element(raw, id.end)!;
  return {
    raw,
    id: raw.subarray(id.start, id.end).reduce((n, byte) => n * 256 + byte, 0),
    idElement: raw.subarray(outer.start, id.end),
    op: op.tag,
    opElement: raw.subarray(id.end, op.end),
  };
}

/** Splits a byte stream into whole LDAP messages. */
function onMessages(socket: TLSSocket, handle: (message: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const message = element(pending, 0);
      if (message === undefined || message.end > pending.length) return;
      handle(pending.subarray(0, message.end));
      pending = pending.subarray(message.end);
    }
  });
}

/**
 * A test-only LDAPS proxy in front of the stack's Samba (127.0.0.1:636), with Samba's own
 * certificate, that misbehaves on cue: the directory as seen by the sync worker, answering an error
 * or a partial result in the middle of a DirSync search. Samba itself is never touched.
 */
class FaultyDirectory {
  private readonly server: Server;
  private readonly sockets = new Set<TLSSocket>();
  private fault: Fault | undefined;
  /** How many armed faults were carried out. */
  fired = 0;

  constructor(private readonly caPem: string) {
    const tls = resolve(__dirname, '../../../..', process.env.LDAP_CA_FILE ?? '', '..');
    this.server = createServer(
      { key: readFileSync(resolve(tls, 'key.pem')), cert: readFileSync(resolve(tls, 'cert.pem')) },
      (client) => this.relay(client),
    );
  }

  get url(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy is not listening');
    return `ldaps://127.0.0.1:${address.port}`;
  }

  arm(fault: Fault): void {
    this.fault = fault;
  }

  listen(): Promise<void> {
    return new Promise((done) => this.server.listen(0, '127.0.0.1', done));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((done) => this.server.close(() => done()));
  }

  private relay(client: TLSSocket): void {
    const upstream = tlsConnect({ host: '127.0.0.1', port: 636, ca: [this.caPem] });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const dirSyncSearches = new Set<number>();
    const ended = new Set<number>();
    const entries = new Map<number, number>();

    onMessages(client, (raw) => {
      const message = parseMessage(raw);
      if (message.op === SEARCH_REQUEST && raw.includes(DIRSYNC_OID)) dirSyncSearches.add(message.id);
      upstream.write(raw);
    });
    onMessages(upstream, (raw) => {
      const message = parseMessage(raw);
      if (!dirSyncSearches.has(message.id)) return void client.write(raw);
      if (ended.has(message.id)) return; // the rest of a search the proxy already ended
      const fault = this.fault;
      if (fault?.kind === 'no-control' && message.op === SEARCH_RESULT_DONE) {
        this.fired++;
        this.fault = undefined;
        return void client.write(tlv(0x30, Buffer.concat([message.idElement, message.opElement])));
      }
      if (message.op === SEARCH_RESULT_ENTRY && fault !== undefined && fault.kind !== 'no-control') {
        const seen = (entries.get(message.id) ?? 0) + 1;
        entries.set(message.id, seen);
        if (seen > fault.afterEntries) {
          this.fired++;
          this.fault = undefined;
          if (fault.kind === 'cut') {
            client.write(raw.subarray(0, raw.length >> 1));
            client.destroy();
            return;
          }
          ended.add(message.id);
          const result = Buffer.concat([
            tlv(0x0a, Buffer.from([fault.resultCode])),
            tlv(0x04, Buffer.alloc(0)),
            tlv(0x04, Buffer.from(fault.message)),
          ]);
          return void client.write(
            tlv(0x30, Buffer.concat([message.idElement, tlv(SEARCH_RESULT_DONE, result)])),
          );
        }
      }
      client.write(raw);
    });
  }
}

/**
 * Faults of the directory, not of its host: it answers an LDAP error in the middle of a DirSync
 * search, or a partial result (a size or time limit hit after some entries, the connection cut in
 * the middle of an entry, a final result without its DirSync control). Each time the pass records
 * nothing, disables and deletes no one, keeps the stored cookie; the next pass resumes from that
 * cookie and sees each change exactly once. Real Samba AD behind a test-only LDAPS proxy.
 */
describe('the directory answering errors or partial results mid-sync (real Samba AD, PostgreSQL, Redis)', () => {
  const DELAY_MS = 300;
  const tenantId = randomUUID();
  const directory = samba();
  const ou = `OU=Faults-${tenantId.slice(0, 8)},${directory.baseDn}`;
  const realm = directory.realm.toLowerCase();
  let app: INestApplication;
  let db: DataSource;
  let worker: SyncScheduler;
  let streams: DirectorySyncStreams;
  let queue: Queue;
  let admin: Client;
  let proxy: FaultyDirectory;
  const created: string[] = [];

  const user = (name: string) => ({ dn: `CN=${name},${ou}`, upn: `${name}@${realm}` });
  const createUser = async (name: string) => {
    await admin.add(user(name).dn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [name] }),
      new Attribute({ type: 'userPrincipalName', values: [user(name).upn] }),
      // 0x200 normal account | 0x20 password not required: enabled without a password.
      new Attribute({ type: 'userAccountControl', values: ['544'] }),
    ]);
    created.push(user(name).dn);
  };
  const disable = (name: string) =>
    admin.modify(
      user(name).dn,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'userAccountControl', values: ['546'] }),
      }),
    );
  const streamId = `directory-sync-${tenantId}`;
  /** Everything a pass records: its events, and the stored cookie. */
  const recorded = async () => ({
    events: (await db.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = $1`, [streamId]))[0]
      .n as number,
    cookie: (await db.query(`SELECT cookie FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]))[0]
      ?.cookie as Buffer | undefined,
  });
  /** The kinds of change detected for each user, over the whole history. */
  const detected = async (...names: string[]) => {
    const rows: { upn: string; kind: string }[] = await db.query(
      `SELECT data ->> 'upn' AS upn, data ->> 'kind' AS kind FROM events
       WHERE stream_id = $1 AND type = 'DirectoryChangeDetected' AND data ->> 'upn' = ANY($2) ORDER BY seq`,
      [streamId, names.map((name) => user(name).upn)],
    );
    return Object.fromEntries(
      names.map((name) => [name, rows.filter((row) => row.upn === user(name).upn).map((row) => row.kind)]),
    );
  };
  const cloudStatus = async (...names: string[]) => {
    const rows: { username: string; status: string }[] = await db.query(
      `SELECT username, status FROM accounts WHERE tenant_id = $1 AND username = ANY($2)`,
      [tenantId, names.map((name) => user(name).upn)],
    );
    return Object.fromEntries(
      names.map((name) => [name, rows.find((row) => row.username === user(name).upn)?.status ?? 'none']),
    );
  };
  const applied = async () => {
    const deadline = Date.now() + 20_000;
    while (pendingChanges(await streams.load(tenantId)).length > 0) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the changes to be applied');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const pass = () => worker.syncTenant(tenantId, 'scheduled');

  beforeAll(async () => {
    process.env.SYNC_POLL_INTERVAL_MS = String(3_600_000); // passes run when the test says
    process.env.REDIS_PREFIX = `latchkey-test-${tenantId.slice(0, 8)}`;
    app = await startIntegrationApp(JobsModule, DirectorySyncWorkerModule);
    db = app.get(DataSource);
    worker = app.get(SyncScheduler);
    streams = app.get(DirectorySyncStreams);
    queue = app.get(getQueueToken(DIRECTORY_CHANGES_QUEUE));
    proxy = new FaultyDirectory(directory.caPem);
    await proxy.listen();

    admin = ldapsClient();
    await admin.bind(`Administrator@${directory.realm}`, process.env.SAMBA_ADMIN_PASSWORD!);
    await admin.add(ou, [new Attribute({ type: 'objectClass', values: ['top', 'organizationalUnit'] })]);

    const ctx = { tenantId, actor: { kind: 'admin' as const } };
    await app
      .get(CommandBus)
      .execute(
        new RunTenantCommand({ type: 'CreateTenant', data: { tenantId, name: 'Faulty directory' } }, ctx),
      );
    await app.get(ConnectDirectory).execute(
      tenantId,
      {
        url: proxy.url,
        caPem: directory.caPem,
        ...directory.sync,
        baseDn: directory.baseDn,
        usersOnlyUnder: ou,
        delayModel: { kind: 'fixed', delayMs: DELAY_MS },
      },
      ctx,
      new Date(),
    );
    await pass(); // the first, full pass: from now on, deltas
    expect((await recorded()).cookie?.length).toBeGreaterThan(0);
  }, 120_000);

  afterAll(async () => {
    for (const dn of created) await admin?.del(dn).catch(() => undefined);
    await admin?.del(ou).catch(() => undefined);
    await admin?.unbind();
    await db?.query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]);
    await db?.query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId]);
    await queue?.obliterate({ force: true });
    await proxy?.close();
    await app?.close();
  }, 60_000);

  const faults: Array<[string, Fault]> = [
    [
      'an LDAP error (busy) after the first entry',
      { kind: 'result', afterEntries: 1, resultCode: 51, message: 'busy' },
    ],
    [
      'an LDAP error (other) before any entry',
      { kind: 'result', afterEntries: 0, resultCode: 80, message: 'internal error' },
    ],
    [
      'sizeLimitExceeded after 2 entries: a partial result',
      { kind: 'result', afterEntries: 2, resultCode: 4, message: 'size limit' },
    ],
    [
      'timeLimitExceeded after 1 entry: a partial result',
      { kind: 'result', afterEntries: 1, resultCode: 3, message: 'time limit' },
    ],
    ['the connection cut in the middle of the second entry', { kind: 'cut', afterEntries: 1 }],
    ['a final result without its DirSync control', { kind: 'no-control' }],
  ];

  it.each(faults.map(([name, fault], i) => [name, fault, i] as const))(
    '%s: the pass records nothing and disables or deletes no one; the next resumes from the stored cookie',
    async (_name, fault, i) => {
      const [stays, leaves, joins] = [`f${i}-stays`, `f${i}-leaves`, `f${i}-joins`].map(
        (name) => `${name}-${tenantId.slice(0, 4)}`,
      );
      // Two users the cloud holds…
      await createUser(stays);
      await createUser(leaves);
      await pass();
      await applied();
      expect(await cloudStatus(stays, leaves)).toEqual({ [stays]: 'active', [leaves]: 'active' });

      // …then, on premises, one disabled, one deleted, one new.
      await disable(stays);
      await admin.del(user(leaves).dn);
      await createUser(joins);

      const before = await recorded();
      proxy.fired = 0;
      proxy.arm(fault);
      await pass();
      expect(proxy.fired).toBe(1);
      expect(await recorded()).toEqual(before); // no event, the same cookie
      await new Promise((r) => setTimeout(r, DELAY_MS + 200));
      expect(pendingChanges(await streams.load(tenantId))).toEqual([]);
      expect(await cloudStatus(stays, leaves, joins)).toEqual({
        [stays]: 'active',
        [leaves]: 'active',
        [joins]: 'none',
      });

      await pass(); // from the cookie stored before the fault
      await pass(); // nothing new
      await applied();
      expect(await detected(stays, leaves, joins)).toEqual({
        [stays]: ['created', 'disabled'],
        [leaves]: ['created', 'deleted'],
        [joins]: ['created'],
      });
      expect(await cloudStatus(stays, leaves, joins)).toEqual({
        [stays]: 'disabled',
        [leaves]: 'deleted',
        [joins]: 'active',
      });
    },
    60_000,
  );
  it('a stored cookie the DC cannot read (Samba answers unavailableCriticalExtension): no one disabled or deleted by mistake, each change seen once', async () => {
    const [stays, leaves, joins] = ['c-stays', 'c-leaves', 'c-joins'].map(
      (name) => `${name}-${tenantId.slice(0, 4)}`,
    );
    await createUser(stays);
    await createUser(leaves);
    await pass();
    await applied();
    await disable(stays);
    await admin.del(user(leaves).dn);
    await createUser(joins);
    const [{ n: detectedBefore }] = await db.query(
      `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'DirectoryChangeDetected'`,
      [streamId],
    );

    await db.query(`UPDATE directory_sync_cookies SET cookie = $2 WHERE tenant_id = $1`, [
      tenantId,
      Buffer.from('not a cookie this DC ever issued'),
    ]);
    for (let i = 0; i < 3; i++) await pass(); // whatever it takes to read again from scratch
    await applied();

    expect(await detected(stays, leaves, joins)).toEqual({
      [stays]: ['created', 'disabled'],
      [leaves]: ['created', 'deleted'],
      [joins]: ['created'],
    });
    // Reading everything again changed nothing else: every other user of the OU is as it was.
    const [{ n: detectedAfter }] = await db.query(
      `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'DirectoryChangeDetected'`,
      [streamId],
    );
    expect(detectedAfter - detectedBefore).toBe(3);
    expect(await cloudStatus(stays, leaves, joins)).toEqual({
      [stays]: 'disabled',
      [leaves]: 'deleted',
      [joins]: 'active',
    });
  }, 60_000);
});
