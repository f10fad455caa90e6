import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bull';
import type { INestApplication } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Queue } from 'bull';
import {
  CreateAppPasswordCommand,
  RunTenantCommand,
  RunUserCommand,
  userStreamId,
  VerifySignIn,
  type CreatedAppPassword,
  type SignInVerdict,
} from '@latchkey/app-passwords';
import { JobsModule } from '@latchkey/jobs';
import { DataSource } from 'typeorm';
import { samba, SambaAdmin } from '../../../directory/src/testing/samba-admin';
import { directorySyncStreamId, pendingChanges } from '../domain';
import { DIRECTORY_CHANGES_QUEUE } from './change-scheduler';
import { ConnectDirectory } from './connect-directory';
import { DirectorySyncStreams } from './directory-sync.streams';
import { SyncPassRunner } from './sync-pass.runner';
import { DirectorySyncWorkerModule } from './sync-worker';
import { startIntegrationApp } from '../../../../test/integration-app';

/**
 * B6 for synced users, against the stack's Samba AD: a helpdesk resets a user's password on premises
 * (the Administrator sets unicodePwd), DirSync reads the new pwdLastSet, and the reset reaches the
 * cloud when its modelled delay has passed (R8). Two tenants sync the same directory: one opted in
 * to B6 (the user's app password is revoked), one did not (R5: it keeps working; the reset is still
 * recorded).
 */
describe('an on-premises password reset reaching the cloud (real Samba AD, PostgreSQL, Redis)', () => {
  const DELAY_MS = 1_500;
  const runId = randomUUID().slice(0, 8);
  const sam = `pwreset-${runId}`;
  const dn = `CN=${sam},${samba().usersOu}`;
  const upn = `${sam}@${samba().realm.toLowerCase()}`;
  let app: INestApplication;
  let commands: CommandBus;
  let db: DataSource;
  let queue: Queue;
  let runner: SyncPassRunner;
  let streams: DirectorySyncStreams;
  let admin: SambaAdmin;

  interface Tenant {
    tenantId: string;
    userId: string;
    appPassword: CreatedAppPassword;
  }
  const optedIn = {} as Tenant;
  const notOptedIn = {} as Tenant;

  const ctxOf = (tenantId: string) => ({ tenantId, actor: { kind: 'admin' as const } });
  const verify = (tenant: Tenant) =>
    commands.execute<VerifySignIn, SignInVerdict>(
      new VerifySignIn(tenant.tenantId, upn, tenant.appPassword.password, 'IMAP', 'sign-in', '192.0.2.9'),
    );
  const pass = (tenant: Tenant) => runner.run(tenant.tenantId, 'scheduled', () => new Date());
  const until = async (what: string, check: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** The user's events of one type, oldest first. */
  const userEvents = async (tenant: Tenant, type: string): Promise<Array<Record<string, unknown>>> =>
    (
      await db.query(`SELECT data FROM events WHERE stream_id = $1 AND type = $2 ORDER BY seq`, [
        userStreamId(tenant.userId),
        type,
      ])
    ).map((row: { data: Record<string, unknown> }) => row.data);
  /** The tenant's detected password resets of this test's user. */
  const resetsDetected = async (tenant: Tenant): Promise<number> =>
    (
      await db.query(
        `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'DirectoryChangeDetected'
           AND data ->> 'kind' = 'password-reset' AND data ->> 'upn' = $2`,
        [directorySyncStreamId(tenant.tenantId), upn],
      )
    )[0].n;

  /** A federated tenant syncing the Staff OU; the AD user arrives, and gets an app password. */
  const federatedTenant = async (tenant: Tenant, revokeOnPasswordReset: boolean) => {
    tenant.tenantId = randomUUID();
    const ctx = ctxOf(tenant.tenantId);
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: {
            tenantId: tenant.tenantId,
            name: revokeOnPasswordReset ? 'Opted in to B6' : 'Entra default',
            policy: { appPasswordsAllowed: true, revokeOnPasswordReset },
          },
        },
        ctx,
      ),
    );
    const { url, caPem, baseDn, usersOu, sync } = samba();
    await app.get(ConnectDirectory).execute(
      tenant.tenantId,
      {
        url,
        caPem,
        ...sync,
        baseDn,
        usersOnlyUnder: usersOu,
        delayModel: { kind: 'fixed', delayMs: DELAY_MS },
      },
      ctx,
      new Date(),
    );
    await pass(tenant);
    await until('the synced user', async () => {
      const [account] = await db.query(
        `SELECT user_id FROM accounts WHERE tenant_id = $1 AND username = $2`,
        [tenant.tenantId, upn],
      );
      tenant.userId = account?.user_id;
      return account !== undefined;
    });
    const user = { tenantId: tenant.tenantId, userId: tenant.userId };
    await commands.execute(
      new RunUserCommand({ type: 'SetMfaState', data: { ...user, mfa: 'enforced' } }, ctx),
    );
    await commands.execute(new RunUserCommand({ type: 'CompleteMfaRegistration', data: user }, ctx));
    tenant.appPassword = await commands.execute(
      new CreateAppPasswordCommand(tenant.tenantId, tenant.userId, 'Thunderbird', undefined, ctx),
    );
  };

  beforeAll(async () => {
    process.env.SYNC_POLL_INTERVAL_MS = String(3_600_000); // passes run when the test says
    process.env.REDIS_PREFIX = `latchkey-test-${runId}`;
    app = await startIntegrationApp(JobsModule, DirectorySyncWorkerModule);
    commands = app.get(CommandBus);
    db = app.get(DataSource);
    queue = app.get(getQueueToken(DIRECTORY_CHANGES_QUEUE));
    runner = app.get(SyncPassRunner);
    streams = app.get(DirectorySyncStreams);
    admin = await SambaAdmin.connect();
    await admin.createUser(dn, sam, upn);
    await federatedTenant(optedIn, true);
    await federatedTenant(notOptedIn, false);
  }, 90_000);

  afterAll(async () => {
    await admin?.deleteIfPresent(dn);
    await admin?.close();
    for (const { tenantId } of [optedIn, notOptedIn]) {
      if (tenantId === undefined) continue;
      await db?.query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]);
      await db?.query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId]);
    }
    await queue?.obliterate({ force: true });
    await app?.close();
  }, 60_000);

  /** A helpdesk reset on premises, then a pass of each tenant; returns the new password. */
  const resetOnPremises = async () => {
    const password = `Helpdesk-${randomUUID().slice(0, 8)}-1a!`;
    await admin.setPassword(dn, password);
    await pass(optedIn);
    await pass(notOptedIn);
    return password;
  };
  const resetsRecorded = async (count: number) => {
    for (const tenant of [optedIn, notOptedIn]) {
      await until(
        'the reset to reach the cloud',
        async () => (await userEvents(tenant, 'UserPasswordReset')).length >= count,
      );
    }
  };

  it('B6: an on-premises password reset of a synced user revokes their app passwords when the tenant opted in; R5: it does not when the tenant did not', async () => {
    // The arrival read the user's pwdLastSet as its baseline: no reset.
    for (const tenant of [optedIn, notOptedIn]) {
      expect(await resetsDetected(tenant)).toBe(0);
      expect(await verify(tenant)).toMatchObject({ allowed: true });
    }

    const password = await resetOnPremises();
    expect(await resetsDetected(optedIn)).toBe(1);
    expect(await resetsDetected(notOptedIn)).toBe(1);
    // R8: the reset is scheduled by the delay model; until it lands the app password keeps working.
    const [pending] = pendingChanges(await streams.load(optedIn.tenantId));
    expect(Date.now()).toBeLessThan(Date.parse(pending.dueAt));
    expect(await verify(optedIn)).toMatchObject({ allowed: true });

    await resetsRecorded(1);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(pending.dueAt));

    // B6 on: the reset revoked the app password, whose secret now matches no live one.
    expect(await verify(optedIn)).toMatchObject({ allowed: false, reason: 'invalid-credentials' });
    expect(await userEvents(optedIn, 'UserPasswordReset')).toEqual([
      expect.objectContaining({ userId: optedIn.userId, origin: 'directory-sync' }),
    ]);
    expect(await userEvents(optedIn, 'AppPasswordRevoked')).toEqual([
      expect.objectContaining({ appPasswordId: optedIn.appPassword.appPasswordId, reason: 'password-reset' }),
    ]);

    // B6 off (R5, as Entra): the app password still verifies, and the reset is on record.
    expect(await verify(notOptedIn)).toMatchObject({ allowed: true });
    expect(await userEvents(notOptedIn, 'UserPasswordReset')).toEqual([
      expect.objectContaining({ userId: notOptedIn.userId, origin: 'directory-sync' }),
    ]);
    expect(await userEvents(notOptedIn, 'AppPasswordRevoked')).toEqual([]);

    // pwdLastSet is a timestamp; the password itself is stored nowhere.
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM events WHERE tenant_id = ANY($1::uuid[]) AND position($2 in data::text) > 0`,
      [[optedIn.tenantId, notOptedIn.tenantId], password],
    );
    expect(n).toBe(0);
  }, 60_000);

  it('B6: a full resync from scratch reads the same pwdLastSet again and resets nothing; the next reset on premises is one again', async () => {
    for (const tenant of [optedIn, notOptedIn]) {
      await db.query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenant.tenantId]);
      await pass(tenant);
      expect(await resetsDetected(tenant)).toBe(1);
      expect(pendingChanges(await streams.load(tenant.tenantId))).toEqual([]);
    }

    // The user creates a new app password after the scare; the helpdesk resets the password again.
    optedIn.appPassword = await commands.execute(
      new CreateAppPasswordCommand(
        optedIn.tenantId,
        optedIn.userId,
        'Thunderbird again',
        undefined,
        ctxOf(optedIn.tenantId),
      ),
    );
    expect(await verify(optedIn)).toMatchObject({ allowed: true });
    await resetOnPremises();
    await resetsRecorded(2);
    expect(await resetsDetected(optedIn)).toBe(2);
    expect(await verify(optedIn)).toMatchObject({ allowed: false, reason: 'invalid-credentials' });
    expect(await verify(notOptedIn)).toMatchObject({ allowed: true });
  }, 60_000);
});
