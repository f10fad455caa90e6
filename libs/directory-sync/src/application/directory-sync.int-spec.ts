import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getQueueToken } from '@nestjs/bull';
import type { INestApplication } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Queue } from 'bull';
import { Attribute, Change, Client, InvalidCredentialsError } from 'ldapts';
import {
  CreateAppPasswordCommand,
  RunTenantCommand,
  RunUserCommand,
  VerifySignIn,
  type CreatedAppPassword,
  type SignInVerdict,
} from '@latchkey/app-passwords';
import { JobsModule } from '@latchkey/jobs';
import { DataSource } from 'typeorm';
import { startIntegrationApp } from '../../../../test/integration-app';
import { stack } from '../../../../test/stack';
import { pendingChanges } from '../domain';
import { DIRECTORY_CHANGES_QUEUE } from './change-scheduler';
import { ConnectDirectory } from './connect-directory';
import { DirectorySyncStreams } from './directory-sync.streams';
import { DirectorySyncWorkerModule, SyncScheduler } from './sync-worker';

const root = resolve(__dirname, '../../../..');
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/**
 * The sync worker against the stack's Samba AD: DirSync passes, the modelled delay (R8), the
 * propagation applied when due (R15), R17, Redis losing its jobs, and the directory going away.
 */
describe('directory sync (real Samba AD, PostgreSQL, Redis)', () => {
  const DELAY_MS = 2_500;
  const tenantId = randomUUID();
  const ou = env('LDAP_USERS_OU');
  const realm = env('SAMBA_REALM').toLowerCase();
  const name = `sync-${tenantId.slice(0, 8)}`;
  const upn = `${name}@${realm}`;
  const dn = `CN=${name},${ou}`;
  let app: INestApplication;
  let commands: CommandBus;
  let db: DataSource;
  let worker: SyncScheduler;
  let streams: DirectorySyncStreams;
  let queue: Queue;
  let admin: Client;
  let appPassword: CreatedAppPassword;
  let userId: string;

  const ca = readFileSync(resolve(root, env('LDAP_CA_FILE')), 'utf8');
  const ctx = { tenantId, actor: { kind: 'admin' as const } };
  const verify = (password: string) =>
    commands.execute<VerifySignIn, SignInVerdict>(
      new VerifySignIn(tenantId, upn, password, 'IMAP', 'sign-in', '192.0.2.9'),
    );
  /** An admin's change on premises, over a fresh connection (the directory may have restarted). */
  const setDisabled = async (disabled: boolean) => {
    const client = new Client({ url: env('LDAP_URL'), tlsOptions: { ca: [ca] } });
    await client.bind(`Administrator@${env('SAMBA_REALM')}`, env('SAMBA_ADMIN_PASSWORD'));
    const uac = new Attribute({ type: 'userAccountControl', values: [disabled ? '514' : '512'] });
    await client.modify(dn, new Change({ operation: 'replace', modification: uac }));
    await client.unbind();
  };
  const until = async (what: string, check: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const eventsOf = async (type: string): Promise<number> =>
    (
      await db.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = $2`, [
        `directory-sync-${tenantId}`,
        type,
      ])
    )[0].n;
  /** Changes of this test's user applied so far (the seed users' arrivals are applied too). */
  const appliedForUser = async (): Promise<number> =>
    (
      await db.query(
        `SELECT count(*)::int AS n FROM events a
         JOIN events d ON d.stream_id = a.stream_id AND d.type = 'DirectoryChangeDetected'
           AND d.data ->> 'changeId' = a.data ->> 'changeId'
         WHERE a.stream_id = $1 AND a.type = 'DirectoryChangeApplied' AND d.data ->> 'upn' = $2`,
        [`directory-sync-${tenantId}`, upn],
      )
    )[0].n;

  beforeAll(async () => {
    process.env.SYNC_POLL_INTERVAL_MS = String(3_600_000); // passes run when the test says
    process.env.REDIS_PREFIX = `latchkey-test-${tenantId.slice(0, 8)}`; // this test's own jobs
    app = await startIntegrationApp(JobsModule, DirectorySyncWorkerModule);
    commands = app.get(CommandBus);
    db = app.get(DataSource);
    worker = app.get(SyncScheduler);
    streams = app.get(DirectorySyncStreams);
    queue = app.get(getQueueToken(DIRECTORY_CHANGES_QUEUE));

    admin = new Client({ url: env('LDAP_URL'), tlsOptions: { ca: [ca] } });
    await admin.bind(`Administrator@${env('SAMBA_REALM')}`, env('SAMBA_ADMIN_PASSWORD'));
    await admin.add(dn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [name] }),
      new Attribute({ type: 'userPrincipalName', values: [upn] }),
      // AD takes a password as UTF-16LE of the password in double quotes, over TLS only.
      new Attribute({ type: 'unicodePwd', values: [Buffer.from('"Sync-Test-Pass-2026!"', 'utf16le')] }),
      new Attribute({ type: 'userAccountControl', values: ['512'] }),
    ]);

    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: { tenantId, name: 'Federated', policy: { appPasswordsAllowed: true } },
        },
        ctx,
      ),
    );
    await app.get(ConnectDirectory).execute(
      tenantId,
      {
        url: env('LDAP_URL'),
        caPem: ca,
        bindDn: env('LDAP_BIND_DN'),
        bindPassword: env('LDAP_BIND_PASSWORD'),
        baseDn: env('LDAP_BASE_DN'),
        usersOnlyUnder: ou,
        delayModel: { kind: 'fixed', delayMs: DELAY_MS },
      },
      ctx,
      new Date(),
    );
  }, 60_000);

  afterAll(async () => {
    stack('up', 'samba');
    await admin
      ?.bind(`Administrator@${env('SAMBA_REALM')}`, env('SAMBA_ADMIN_PASSWORD'))
      .catch(() => undefined);
    await admin?.del(dn).catch(() => undefined);
    await admin?.unbind();
    await db?.query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]);
    await db?.query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId]);
    await queue?.obliterate({ force: true });
    await app?.close();
  }, 60_000);

  it('R8: a new directory user arrives in the cloud only when its modelled delay has passed', async () => {
    const startedAt = Date.now();
    await worker.syncTenant(tenantId, 'scheduled');
    const [account] = await db.query(`SELECT 1 FROM accounts WHERE tenant_id = $1 AND username = $2`, [
      tenantId,
      upn,
    ]);
    expect(account).toBeUndefined();
    await until(
      'the synced user',
      async () =>
        (
          await db.query(`SELECT user_id FROM accounts WHERE tenant_id = $1 AND username = $2`, [
            tenantId,
            upn,
          ])
        ).length > 0,
    );
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(DELAY_MS - 100);
    [{ user_id: userId }] = await db.query(
      `SELECT user_id FROM accounts WHERE tenant_id = $1 AND username = $2`,
      [tenantId, upn],
    );

    // Synced users arrive with MFA off; the admin turns it on and the user registers and creates one.
    await commands.execute(
      new RunUserCommand({ type: 'SetMfaState', data: { tenantId, userId, mfa: 'enforced' } }, ctx),
    );
    await commands.execute(
      new RunUserCommand({ type: 'CompleteMfaRegistration', data: { tenantId, userId } }, ctx),
    );
    appPassword = await commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, 'Outlook 2010', undefined, ctx),
    );
    expect(await verify(appPassword.password)).toMatchObject({ allowed: true });
    expect(await appliedForUser()).toBe(1);
  }, 60_000);

  it('R17: the app password lives only in the cloud: a bind to AD with it fails', async () => {
    const client = new Client({ url: env('LDAP_URL'), tlsOptions: { ca: [ca] } });
    await expect(client.bind(upn, appPassword.password.replace(/ /g, ''))).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
    await client.bind(upn, 'Sync-Test-Pass-2026!'); // while the account password works on premises
    await client.unbind();
  });

  it('R8, R15: an on-premises disable keeps app passwords working until it is applied, then stops them', async () => {
    await setDisabled(true);
    await worker.syncTenant(tenantId, 'scheduled');
    const state = await streams.load(tenantId);
    const [pending] = pendingChanges(state);
    expect(pending).toBeDefined();
    const dueAt = Date.parse(pending.dueAt);

    expect(Date.now()).toBeLessThan(dueAt);
    expect(await verify(appPassword.password)).toMatchObject({ allowed: true }); // the exposure window

    await until(
      'the disable to be applied',
      async () => (await verify(appPassword.password)).allowed === false,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(dueAt);
    expect(await verify(appPassword.password)).toMatchObject({ allowed: false, reason: 'account-disabled' });
    expect(await appliedForUser()).toBe(2); // the arrival, then this disable: once each
  }, 60_000);

  it('re-creates propagation jobs that Redis lost, and each applies once', async () => {
    await setDisabled(false);
    await worker.syncTenant(tenantId, 'scheduled');
    expect(pendingChanges(await streams.load(tenantId))).toHaveLength(1);
    await queue.obliterate({ force: true }); // Redis forgets every job
    expect(await queue.getJobCounts()).toMatchObject({ delayed: 0, waiting: 0 });

    await worker.syncTenant(tenantId, 'scheduled'); // reconciles from the events before reading AD
    await until(
      'the enable to be applied',
      async () => (await verify(appPassword.password)).allowed === true,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await appliedForUser()).toBe(3);
    expect(pendingChanges(await streams.load(tenantId))).toEqual([]);
  }, 60_000);

  it('the directory going away mid-sync records nothing and disables no one; the next pass resumes', async () => {
    const passesBefore = await eventsOf('SyncPassCompleted');
    const [{ cookie: cookieBefore }] = await db.query(
      `SELECT cookie FROM directory_sync_cookies WHERE tenant_id = $1`,
      [tenantId],
    );
    stack('down', 'samba');
    await worker.syncTenant(tenantId, 'scheduled');
    expect(await eventsOf('SyncPassCompleted')).toBe(passesBefore);
    expect(await verify(appPassword.password)).toMatchObject({ allowed: true });
    const [{ cookie: cookieAfter }] = await db.query(
      `SELECT cookie FROM directory_sync_cookies WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(Buffer.compare(cookieAfter, cookieBefore)).toBe(0);

    stack('up', 'samba');
    await setDisabled(true);
    await worker.syncTenant(tenantId, 'scheduled');
    expect(await eventsOf('SyncPassCompleted')).toBe(passesBefore + 1);
    expect(pendingChanges(await streams.load(tenantId))).toHaveLength(1);
  }, 120_000);
});
