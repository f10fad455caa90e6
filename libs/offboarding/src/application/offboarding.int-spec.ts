import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getQueueToken } from '@nestjs/bull';
import { CommandBus } from '@nestjs/cqrs';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Queue } from 'bull';
import { Attribute, Change, Client } from 'ldapts';
import { AccessModule } from '@latchkey/access';
import {
  CreateAppPasswordCommand,
  RunTenantCommand,
  RunUserCommand,
  VerifySignIn,
  type CreatedAppPassword,
  type SignInVerdict,
} from '@latchkey/app-passwords';
import {
  ConnectDirectory,
  DirectorySyncWorkerModule,
  pendingChanges,
  DirectorySyncStreams,
  SyncScheduler,
} from '@latchkey/directory-sync';
import { JobsModule } from '@latchkey/jobs';
import { DataSource } from 'typeorm';
import { listenIntegrationApp } from '../../../../test/integration-app';
import { mintToken } from '../../../../test/tokens';
import { sendHrRequest } from '../client/hr-request';
import { OffboardingHttpModule } from './offboarding.controller';
import { OffboardingReconciler, OffboardingWorkerModule } from './offboarding-worker';
import { OFFBOARDING_QUEUE } from './offboarding.scheduler';

const root = resolve(__dirname, '../../../..');
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

interface Report {
  userId: string;
  source: string;
  action: string;
  timeline: Record<string, string | null>;
  exposure: {
    from: string;
    until: string;
    open: boolean;
    stoppedBy: string | null;
    durationMs: number;
    signIns: { at: string; appPasswordId: string; clientIp: string; protocol: string }[];
  };
}

interface Answer {
  status: number;
  body: { offboardingId: string; type?: string; requestId?: string };
}

interface Member {
  userId: string;
  username: string;
  appPassword: CreatedAppPassword;
}

/**
 * HR offboarding end to end, through the API's routes and the worker's jobs, against the stack's
 * Samba AD, PostgreSQL and Redis: the signed webhook, cloud-only and synced users (R8, R15), the fast
 * path (B2), the timeline and exposure (B1), idempotency, and a future instant surviving Redis.
 */
describe('HR offboarding (real Samba AD, PostgreSQL, Redis)', () => {
  const DELAY_MS = 2_000;
  const tenantId = randomUUID();
  const ou = env('LDAP_USERS_OU');
  const realm = env('SAMBA_REALM').toLowerCase();
  const ca = readFileSync(resolve(root, env('LDAP_CA_FILE')), 'utf8');
  const adNames = ['slow', 'fast', 'ren', 'held'].map((label) => `hr-${label}-${tenantId.slice(0, 8)}`);
  const ctx = { tenantId, actor: { kind: 'admin' as const } };
  let app: NestExpressApplication;
  let base: string;
  let commands: CommandBus;
  let db: DataSource;
  let worker: SyncScheduler;
  let queue: Queue;
  let admin: Client;
  let adminToken: string;
  let secret: Buffer;
  let cloudNow: Member;
  let cloudLater: Member;
  let cloudDup: Member;
  let syncedSlow: Member;
  let syncedFast: Member;
  let syncedRenamed: Member;
  let syncedHeld: Member;

  const adminBind = async () => {
    const client = new Client({ url: env('LDAP_URL'), tlsOptions: { ca: [ca] } });
    await client.bind(`Administrator@${env('SAMBA_REALM')}`, env('SAMBA_ADMIN_PASSWORD'));
    return client;
  };
  const verify = (member: Member) =>
    commands.execute<VerifySignIn, SignInVerdict>(
      new VerifySignIn(
        tenantId,
        member.username,
        member.appPassword.password,
        'IMAP',
        'sign-in',
        '192.0.2.44',
      ),
    );
  const until = async (what: string, check: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const hr = async (
    body: object,
    options: { key?: string; tenant?: string; key2?: Buffer; timestamp?: number; signature?: string } = {},
  ): Promise<Answer> => {
    const response = await sendHrRequest({
      api: base,
      tenantId: options.tenant ?? tenantId,
      secret: options.key2 ?? secret,
      body,
      idempotencyKey: options.key,
      timestamp: options.timestamp,
      signature: options.signature,
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  };
  const timeline = async (offboardingId: string): Promise<Report> => {
    const response = await fetch(`${base}/v1/offboarding/${offboardingId}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Report;
  };
  const count = async (streamId: string, type: string): Promise<number> =>
    (
      await db.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = $2`, [
        streamId,
        type,
      ])
    )[0].n;
  const userAccountControl = async (name: string): Promise<number> => {
    const client = await adminBind();
    try {
      const { searchEntries } = await client.search(`CN=${name},${ou}`, {
        scope: 'base',
        attributes: ['userAccountControl'],
      });
      return Number(searchEntries[0].userAccountControl);
    } finally {
      await client.unbind();
    }
  };
  const renameInAd = async (name: string, newUpn: string) => {
    const client = await adminBind();
    try {
      await client.modify(
        `CN=${name},${ou}`,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'userPrincipalName', values: [newUpn] }),
        }),
      );
    } finally {
      await client.unbind();
    }
  };
  const withAppPassword = async (userId: string, username: string): Promise<Member> => {
    await commands.execute(
      new RunUserCommand({ type: 'SetMfaState', data: { tenantId, userId, mfa: 'enforced' } }, ctx),
    );
    await commands.execute(
      new RunUserCommand({ type: 'CompleteMfaRegistration', data: { tenantId, userId } }, ctx),
    );
    const appPassword = await commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, 'Outlook 2010', undefined, ctx),
    );
    return { userId, username, appPassword };
  };
  const cloudUser = async (label: string) => {
    const userId = randomUUID();
    const username = `${label}-${tenantId.slice(0, 8)}@cloud.test`;
    await commands.execute(
      new RunUserCommand(
        {
          type: 'ProvisionUser',
          data: { tenantId, userId, username, source: 'cloud', mfa: 'disabled', origin: 'admin' },
        },
        ctx,
      ),
    );
    return withAppPassword(userId, username);
  };

  beforeAll(async () => {
    process.env.SYNC_POLL_INTERVAL_MS = String(3_600_000); // passes run when the test says
    process.env.REDIS_PREFIX = `latchkey-test-${tenantId.slice(0, 8)}`; // this test's own jobs
    ({ app, base } = await listenIntegrationApp(
      AccessModule,
      JobsModule,
      DirectorySyncWorkerModule,
      OffboardingHttpModule,
      OffboardingWorkerModule,
    ));
    commands = app.get(CommandBus);
    db = app.get(DataSource);
    worker = app.get(SyncScheduler);
    queue = app.get(getQueueToken(OFFBOARDING_QUEUE));

    admin = await adminBind();
    for (const name of adNames) {
      await admin.add(`CN=${name},${ou}`, [
        new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
        new Attribute({ type: 'sAMAccountName', values: [name] }),
        new Attribute({ type: 'userPrincipalName', values: [`${name}@${realm}`] }),
        new Attribute({ type: 'unicodePwd', values: [Buffer.from('"Hr-Test-Pass-2026!"', 'utf16le')] }),
        new Attribute({ type: 'userAccountControl', values: ['512'] }),
      ]);
    }
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: { tenantId, name: 'Offboarding', policy: { appPasswordsAllowed: true } },
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
        writeBindDn: `Administrator@${env('SAMBA_REALM')}`,
        writeBindPassword: env('SAMBA_ADMIN_PASSWORD'),
        baseDn: env('LDAP_BASE_DN'),
        usersOnlyUnder: ou,
        delayModel: { kind: 'fixed', delayMs: DELAY_MS },
      },
      ctx,
      new Date(),
    );
    adminToken = await mintToken({ tenantId, sub: `admin-${randomUUID()}`, roles: ['tenant-admin'] });
    const rotated = await fetch(`${base}/v1/offboarding/webhook-secret`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(rotated.status).toBe(201);
    secret = Buffer.from(((await rotated.json()) as { secret: string }).secret, 'base64');
    expect(secret).toHaveLength(32);

    [cloudNow, cloudLater, cloudDup] = await Promise.all(['now', 'later', 'dup'].map(cloudUser));
    await worker.syncTenant(tenantId, 'scheduled'); // the two AD users arrive after the modelled delay
    const arrived = async (name: string) =>
      (
        await db.query(`SELECT user_id FROM accounts WHERE tenant_id = $1 AND username = $2`, [
          tenantId,
          `${name}@${realm}`,
        ])
      )[0]?.user_id as string | undefined;
    await until('the synced users', async () =>
      (await Promise.all(adNames.map(arrived))).every((userId) => userId !== undefined),
    );
    syncedSlow = await withAppPassword((await arrived(adNames[0]))!, `${adNames[0]}@${realm}`);
    syncedFast = await withAppPassword((await arrived(adNames[1]))!, `${adNames[1]}@${realm}`);
    syncedRenamed = await withAppPassword((await arrived(adNames[2]))!, `${adNames[2]}@${realm}`);
    syncedHeld = await withAppPassword((await arrived(adNames[3]))!, `${adNames[3]}@${realm}`);
  }, 60_000);

  afterAll(async () => {
    for (const name of adNames) await admin?.del(`CN=${name},${ou}`).catch(() => undefined);
    await admin?.unbind();
    await db?.query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]);
    await db?.query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId]);
    await queue?.obliterate({ force: true });
    await app?.close();
  }, 60_000);

  it('R15: a cloud-only user offboarded by HR is refused at once (HR trigger → refused verification)', async () => {
    expect(await verify(cloudNow)).toMatchObject({ allowed: true });
    const startedAt = performance.now();
    const accepted = await hr({
      username: cloudNow.username.toUpperCase(),
      action: 'disable',
      reason: 'left',
    });
    const verdict = await verify(cloudNow);
    const latencyMs = performance.now() - startedAt;
    expect(accepted.status).toBe(202);
    expect(verdict).toMatchObject({ allowed: false, reason: 'account-disabled' });
    console.log(`HR trigger → refused verification: ${latencyMs.toFixed(1)} ms`);
    expect(latencyMs).toBeLessThan(1_000);

    const report = await timeline(accepted.body.offboardingId);
    expect(report).toMatchObject({ userId: cloudNow.userId, source: 'cloud', action: 'disable' });
    expect(report.timeline.appliedAt).toEqual(expect.any(String));
    expect(report.timeline.appPasswordsStoppedAt).toBe(report.timeline.appliedAt);
    expect(report.exposure).toMatchObject({ durationMs: 0, signIns: [], open: false });
  });

  it('the same Idempotency-Key again answers the first answer and has one effect; another body is refused', async () => {
    const key = randomUUID();
    const body = { username: cloudDup.username, action: 'delete' };
    const first = await hr(body, { key });
    const again = await hr(body, { key });
    expect(first.status).toBe(202);
    expect(again).toEqual(first);
    expect(await verify(cloudDup)).toMatchObject({ allowed: false });
    expect(await count(`user-${cloudDup.userId}`, 'UserDeleted')).toBe(1);
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM events WHERE type = 'OffboardingRequested' AND tenant_id = $1
         AND data ->> 'idempotencyKey' = $2`,
      [tenantId, key],
    );
    expect(n).toBe(1);
    expect((await hr({ ...body, action: 'disable' }, { key })).status).toBe(422);
  });

  it('a bad signature, an unknown tenant or a stale timestamp → 401 with one body that says not which', async () => {
    const body = { username: cloudLater.username, action: 'disable' };
    const wrongKey = await hr(body, { key2: Buffer.alloc(32, 7) });
    const unknownTenant = await hr(body, { tenant: randomUUID() });
    const stale = await hr(body, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    const unsigned = await hr(body, { signature: '' });
    for (const refused of [wrongKey, unknownTenant, stale, unsigned]) {
      expect(refused.status).toBe(401);
      expect({ ...refused.body, requestId: undefined }).toEqual({ ...wrongKey.body, requestId: undefined });
    }
    expect(await verify(cloudLater)).toMatchObject({ allowed: true });
  });

  it('a signed request with a NUL, a control or format character, a lone surrogate, an instant outside years 1–9999 or a non-UPN → 400, nothing recorded', async () => {
    const requested = async () =>
      (
        await db.query(
          `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type = 'OffboardingRequested'`,
          [tenantId],
        )
      )[0].n;
    const offboardings = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM offboardings WHERE tenant_id = $1`, [tenantId]))[0].n;
    const [eventsBefore, rowsBefore] = [await requested(), await offboardings()];
    const username = cloudLater.username;
    for (const body of [
      { username: `${username}\u0000`, action: 'disable' },
      { username: `nul\u0000${username}`, action: 'disable' },
      { username, action: 'disable', reason: 'left\u0000' },
      { username, action: 'disable', reason: 'left \u001b[31mred' },
      { username, action: 'disable', reason: 'left \ud800' },
      { username, action: 'disable', reason: 'left \u202edegnahc' },
      { username, action: 'disable', effectiveAt: '0000-06-01T00:00:00Z' },
      { username, action: 'disable', effectiveAt: '0000-01-01T00:00:00+01:00' },
      { username, action: 'disable', effectiveAt: '9999-12-31T23:30:00-01:00' },
      { username: 'not a upn', action: 'disable' },
      { username: '@', action: 'disable' },
    ]) {
      const refused = await hr(body);
      expect({ body, status: refused.status }).toEqual({ body, status: 400 });
      expect(refused.body).toMatchObject({ type: expect.stringMatching(/validation-failed$/) });
    }
    expect([await requested(), await offboardings()]).toEqual([eventsBefore, rowsBefore]);
    expect(await verify(cloudLater)).toMatchObject({ allowed: true });
  });

  it('R8, B1: a synced user is disabled in AD at once, keeps signing in until the modelled delay, and the timeline shows it all', async () => {
    const accepted = await hr({ username: syncedSlow.username, action: 'disable' });
    expect(accepted.status).toBe(202);
    expect((await userAccountControl(adNames[0])) & 0x2).toBe(0x2); // disabled on premises
    expect(await verify(syncedSlow)).toMatchObject({ allowed: true }); // R8: the cloud does not know yet

    await worker.syncTenant(tenantId, 'scheduled');
    const [pending] = pendingChanges(await app.get(DirectorySyncStreams).load(tenantId));
    expect(pending).toBeDefined();
    expect(await verify(syncedSlow)).toMatchObject({ allowed: true }); // still inside the window
    await until('the disable to arrive', async () => (await verify(syncedSlow)).allowed === false);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(pending.dueAt));

    const report = await timeline(accepted.body.offboardingId);
    const t = report.timeline;
    for (const step of [
      'requestedAt',
      'writtenToDirectoryAt',
      'detectedAt',
      'scheduledAt',
      'dueAt',
      'appliedAt',
      'appPasswordsStoppedAt',
    ]) {
      expect({ step, at: t[step] }).toEqual({ step, at: expect.any(String) });
    }
    expect(Date.parse(t.writtenToDirectoryAt!)).toBeLessThanOrEqual(Date.parse(t.detectedAt!));
    expect(Date.parse(t.appliedAt!)).toBeGreaterThanOrEqual(Date.parse(t.dueAt!));
    expect(report.exposure).toMatchObject({
      from: t.writtenToDirectoryAt,
      until: t.appliedAt,
      open: false,
      stoppedBy: 'directory-sync',
    });
    expect(report.exposure.durationMs).toBeGreaterThanOrEqual(DELAY_MS);
    expect(report.exposure.signIns.length).toBeGreaterThanOrEqual(2);
    for (const signIn of report.exposure.signIns) {
      expect(signIn).toMatchObject({
        appPasswordId: syncedSlow.appPassword.appPasswordId,
        clientIp: '192.0.2.44',
        protocol: 'IMAP',
      });
    }
  }, 30_000);

  it('B1: a disable synced in the same pass as a rename is followed to the change that lands (regression: the timeline followed the superseded rename and stayed open)', async () => {
    const accepted = await hr({ username: syncedRenamed.username, action: 'disable' });
    expect(accepted.status).toBe(202);
    // Renamed on premises before the next pass: that pass detects a rename, then the disable.
    const renamedUpn = `${adNames[2]}-renamed@${realm}`;
    await renameInAd(adNames[2], renamedUpn);

    await worker.syncTenant(tenantId, 'scheduled');
    const renamed = { ...syncedRenamed, username: renamedUpn };
    // The new name is unknown to the cloud until the change lands, renamed and disabled at once.
    await until('the rename and disable to arrive', async () => {
      const verdict = await verify(renamed);
      return !verdict.allowed && verdict.reason === 'account-disabled';
    });

    const report = await timeline(accepted.body.offboardingId);
    expect(report.timeline.appliedAt).toEqual(expect.any(String));
    expect(report.timeline.appPasswordsStoppedAt).toBe(report.timeline.appliedAt);
    expect(Date.parse(report.timeline.appliedAt!)).toBeGreaterThanOrEqual(Date.parse(report.timeline.dueAt!));
    expect(report.exposure).toMatchObject({ open: false, stoppedBy: 'directory-sync' });
  }, 30_000);

  it('R15, B1: a disable synced with a rename to a name another cloud user holds still stops app passwords; the rename waits (regression: the refused rename held the disable back)', async () => {
    const takenUpn = `${adNames[3]}-taken@${realm}`;
    await commands.execute(
      new RunUserCommand(
        {
          type: 'ProvisionUser',
          data: {
            tenantId,
            userId: randomUUID(),
            username: takenUpn,
            source: 'cloud',
            mfa: 'disabled',
            origin: 'admin',
          },
        },
        ctx,
      ),
    );
    const accepted = await hr({ username: syncedHeld.username, action: 'disable' });
    expect(accepted.status).toBe(202);
    await renameInAd(adNames[3], takenUpn);

    await worker.syncTenant(tenantId, 'scheduled');
    // Refused as renamed, the user keeps the old name in the cloud, and is disabled under it.
    await until('the disable to arrive', async () => (await verify(syncedHeld)).allowed === false);
    expect(await verify(syncedHeld)).toMatchObject({ reason: 'account-disabled' });
    // What landed is recorded; the rename waits, pending, where an admin sees it (GET /v1/directory).
    const [{ data: partial }] = await db.query(
      `SELECT data FROM events WHERE stream_id = $1 AND type = 'DirectoryChangePartiallyApplied'
       ORDER BY seq DESC LIMIT 1`,
      [`directory-sync-${tenantId}`],
    );
    expect(partial).toMatchObject({
      failure: 'user.username-taken',
      actions: [{ type: 'disable', userId: syncedHeld.userId }],
    });
    const pending = pendingChanges(await app.get(DirectorySyncStreams).load(tenantId));
    expect(pending.map(({ changeId }) => changeId)).toContain(partial.changeId);

    const report = await timeline(accepted.body.offboardingId);
    expect(report.timeline.appliedAt).toEqual(expect.any(String));
    expect(report.exposure).toMatchObject({ open: false, stoppedBy: 'directory-sync' });
  }, 30_000);

  it('B2: with the fast path on, a synced user is refused at once, and the modelled sync is still recorded', async () => {
    await commands.execute(
      new RunTenantCommand(
        { type: 'ChangeTenantPolicy', data: { tenantId, patch: { fastPathOffboarding: true } } },
        ctx,
      ),
    );
    const startedAt = performance.now();
    const accepted = await hr({ username: syncedFast.username, action: 'disable' });
    expect(await verify(syncedFast)).toMatchObject({ allowed: false });
    console.log(
      `HR trigger → refused verification (fast path, with the AD write): ${(performance.now() - startedAt).toFixed(1)} ms`,
    );
    expect((await userAccountControl(adNames[1])) & 0x2).toBe(0x2);

    await worker.syncTenant(tenantId, 'scheduled');
    const report = await timeline(accepted.body.offboardingId);
    expect(report.timeline.fastPathSuspendedAt).toEqual(expect.any(String));
    expect(report.timeline.detectedAt).toEqual(expect.any(String));
    expect(report.exposure).toMatchObject({ stoppedBy: 'fast-path', signIns: [] });
    expect(report.timeline.appPasswordsStoppedAt).toBe(report.timeline.fastPathSuspendedAt);
  });

  it('a future effectiveAt is applied at that instant, also after Redis lost the job and it was re-created', async () => {
    const effectiveAt = new Date(Date.now() + 3_000);
    const accepted = await hr({
      username: cloudLater.username,
      action: 'disable',
      effectiveAt: effectiveAt.toISOString(),
    });
    expect(accepted.status).toBe(202);
    expect(await verify(cloudLater)).toMatchObject({ allowed: true });

    await queue.obliterate({ force: true }); // Redis forgets every job
    expect(await queue.getJobCounts()).toMatchObject({ delayed: 0, waiting: 0 });
    expect(await app.get(OffboardingReconciler).reconcile()).toBe(1);
    expect(await app.get(OffboardingReconciler).reconcile()).toBe(0); // once

    expect(await verify(cloudLater)).toMatchObject({ allowed: true });
    await until('the scheduled disable', async () => (await verify(cloudLater)).allowed === false, 10_000);
    const report = await timeline(accepted.body.offboardingId);
    const lateMs = Date.parse(report.timeline.appliedAt!) - effectiveAt.getTime();
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1_000);
    expect(await count(`user-${cloudLater.userId}`, 'UserDisabled')).toBe(1);
  }, 20_000);
});
