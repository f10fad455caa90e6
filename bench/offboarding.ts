/**
 * bench/offboarding: the offboarding bars of PRODUCT.md §7 against PostgreSQL, Redis and the stack's
 * Samba AD, in one process that holds the API's offboarding route (on 127.0.0.1, called over HTTP
 * with a signed webhook) and the sync worker's modules (DirSync passes, bull propagation jobs):
 *  1. cloud-only user: HR webhook sent → first refused verification, per user, p50/p99;
 *  2. synced users disabled by HR (written to AD), detected by a DirSync pass, applied by the
 *     worker's delayed jobs: lateness of DirectoryChangeApplied.appliedAt behind its dueAt, p99;
 *  3. the fast path (B2): HR webhook sent → first refused verification of a synced user, p99.
 * Run through bench/directory.sh (`offboarding` or `all`). One line per figure on stdout.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { getQueueToken } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Queue } from 'bull';
import { Attribute, Change, Client } from 'ldapts';
import { DataSource } from 'typeorm';
import { AccessModule } from '@latchkey/access';
import {
  CreateAppPasswordCommand,
  RunTenantCommand,
  RunUserCommand,
  VerifySignIn,
  type SignInVerdict,
} from '@latchkey/app-passwords';
import { LatchkeyConfigModule } from '@latchkey/config';
import {
  ConnectDirectory,
  DIRECTORY_CHANGES_QUEUE,
  DirectorySyncWorkerModule,
  SyncScheduler,
} from '@latchkey/directory-sync';
import { JobsModule } from '@latchkey/jobs';
import {
  OFFBOARDING_QUEUE,
  OffboardingHttpModule,
  OffboardingWorkerModule,
  sendHrRequest,
} from '@latchkey/offboarding';
import { PersistenceModule } from '@latchkey/persistence';
import { configureHttp, httpAppOptions } from '@latchkey/problems';
import { mintToken } from '../test/tokens';
import { percentile, Report } from './lib/report';

const ROOT = resolve(__dirname, '..');
const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};
const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const CLOUD_USERS = int('BENCH_OFF_CLOUD_USERS', 200);
const SYNCED_USERS = int('BENCH_OFF_SYNCED_USERS', 50);
const FAST_USERS = int('BENCH_OFF_FAST_USERS', 50);
const DELAY_MS = int('BENCH_OFF_DELAY_MS', 3_000);
const BASE_DN = env('LDAP_BASE_DN');
const OU = env('BENCH_OFF_OU', `OU=BenchOffboarding,${BASE_DN}`);
const REALM = env('SAMBA_REALM');
const LDAP_URL = 'ldaps://127.0.0.1:636';
const CA = readFileSync(resolve(ROOT, env('LDAP_CA_FILE')), 'utf8');
const BARS = { cloudP99Ms: 200, lateP99Ms: 1_000, fastP99Ms: 1_000 };

const log = (message: string) => process.stderr.write(`[bench:offboarding] ${message}\n`);
const report = new Report();
const figure = (name: string, value: number, decimals: number) => report.figure(name, value, decimals);
const bar = (name: string, passed: boolean) => report.bar(`offboarding.bar.${name}`, passed);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const adName = (i: number) => `bench-off${String(i).padStart(4, '0')}`;

@Module({
  imports: [
    LatchkeyConfigModule.forRoot(),
    AccessModule,
    PersistenceModule,
    JobsModule,
    DirectorySyncWorkerModule,
    OffboardingHttpModule,
    OffboardingWorkerModule,
  ],
})
class OffboardingBenchModule {}

async function adminClient(): Promise<Client> {
  const client = new Client({ url: LDAP_URL, timeout: 60_000, tlsOptions: { ca: [CA] } });
  await client.bind(`Administrator@${REALM}`, env('SAMBA_ADMIN_PASSWORD'));
  return client;
}

/** The OU and its SYNCED_USERS + FAST_USERS users, created if missing, all enabled. */
async function seedDirectory(count: number): Promise<void> {
  const admin = await adminClient();
  try {
    await admin
      .add(OU, [new Attribute({ type: 'objectClass', values: ['top', 'organizationalUnit'] })])
      .catch((error) => {
        if (!/already exists|0x44/i.test(String(error))) throw error;
      });
    const { searchEntries } = await admin.search(OU, {
      scope: 'one',
      filter: '(objectClass=user)',
      attributes: ['sAMAccountName', 'userAccountControl'],
      paged: { pageSize: 1_000 },
    });
    const existing = new Map(
      searchEntries.map((e) => [String(e.sAMAccountName), Number(e.userAccountControl)]),
    );
    for (let i = 0; i < count; i++) {
      const name = adName(i);
      if (!existing.has(name)) {
        await admin.add(`CN=${name},${OU}`, [
          new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
          new Attribute({ type: 'sAMAccountName', values: [name] }),
          new Attribute({ type: 'userPrincipalName', values: [`${name}@${REALM.toLowerCase()}`] }),
          new Attribute({ type: 'userAccountControl', values: ['544'] }),
        ]);
      } else if ((existing.get(name)! & 0x2) !== 0) {
        const modification = new Attribute({ type: 'userAccountControl', values: ['544'] });
        await admin.modify(`CN=${name},${OU}`, new Change({ operation: 'replace', modification }));
      }
    }
  } finally {
    await admin.unbind();
  }
}

async function main(): Promise<void> {
  await seedDirectory(SYNCED_USERS + FAST_USERS);
  const app = await NestFactory.create<NestExpressApplication>(OffboardingBenchModule, {
    ...httpAppOptions,
    logger: ['error', 'warn'],
  });
  configureHttp(app);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const commands = app.get(CommandBus);
  const db = app.get(DataSource);
  const worker = app.get(SyncScheduler);
  const tenants: string[] = [];
  try {
    /** A tenant with its webhook secret; returns how to sign HR requests for it. */
    const newTenant = async (name: string) => {
      const tenantId = randomUUID();
      tenants.push(tenantId);
      const ctx = { tenantId, actor: { kind: 'admin' as const } };
      await commands.execute(
        new RunTenantCommand(
          { type: 'CreateTenant', data: { tenantId, name, policy: { appPasswordsAllowed: true } } },
          ctx,
        ),
      );
      const token = await mintToken({
        tenantId,
        sub: `bench-admin-${randomUUID()}`,
        roles: ['tenant-admin'],
      });
      const rotated = await fetch(`${base}/v1/offboarding/webhook-secret`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      if (rotated.status !== 201) throw new Error(`webhook-secret: ${rotated.status}`);
      const secret = Buffer.from(((await rotated.json()) as { secret: string }).secret, 'base64');
      const hr = async (username: string) => {
        const response = await sendHrRequest({
          api: base,
          tenantId,
          secret,
          body: { username, action: 'disable', reason: 'bench' },
        });
        await response.arrayBuffer();
        if (response.status !== 202) throw new Error(`hr-requests answered ${response.status}`);
      };
      return { tenantId, ctx, hr };
    };
    const withAppPassword = async (tenantId: string, userId: string, username: string) => {
      const ctx = { tenantId, actor: { kind: 'admin' as const } };
      await commands.execute(
        new RunUserCommand({ type: 'SetMfaState', data: { tenantId, userId, mfa: 'enforced' } }, ctx),
      );
      await commands.execute(
        new RunUserCommand({ type: 'CompleteMfaRegistration', data: { tenantId, userId } }, ctx),
      );
      const { password } = await commands.execute(
        new CreateAppPasswordCommand(tenantId, userId, 'Outlook 2010', undefined, ctx),
      );
      return { userId, username, password: password as string };
    };
    type Member = Awaited<ReturnType<typeof withAppPassword>>;
    const verify = (tenantId: string, m: Member) =>
      commands.execute<VerifySignIn, SignInVerdict>(
        new VerifySignIn(tenantId, m.username, m.password, 'IMAP', 'sign-in', '192.0.2.77'),
      );
    /** Sends the webhook and verifies until refused: ms from sending to the first refusal. */
    const hrToRefusal = async (tenantId: string, hr: (u: string) => Promise<void>, m: Member) => {
      if (!(await verify(tenantId, m)).allowed) throw new Error(`${m.username} refused before the webhook`);
      const startedAt = performance.now();
      await hr(m.username);
      for (;;) {
        if (!(await verify(tenantId, m)).allowed) return performance.now() - startedAt;
        if (performance.now() - startedAt > 30_000) throw new Error(`${m.username} never refused`);
        await sleep(5);
      }
    };

    // 1. Cloud-only users.
    {
      const { tenantId, ctx, hr } = await newTenant('bench-offboarding-cloud');
      const members: Member[] = [];
      for (let i = 0; i < CLOUD_USERS; i++) {
        const userId = randomUUID();
        const username = `cloud${i}-${tenantId.slice(0, 8)}@bench.latchkey.test`;
        await commands.execute(
          new RunUserCommand(
            {
              type: 'ProvisionUser',
              data: { tenantId, userId, username, source: 'cloud', mfa: 'disabled', origin: 'admin' },
            },
            ctx,
          ),
        );
        members.push(await withAppPassword(tenantId, userId, username));
      }
      log(`cloud: ${members.length} users with an app password; offboarding them one by one`);
      const samples: number[] = [];
      for (const m of members) samples.push(await hrToRefusal(tenantId, hr, m));
      figure('offboarding.cloud_hr_to_refusal_users', samples.length, 0);
      figure('offboarding.cloud_hr_to_refusal_p50_ms', percentile(samples, 50), 1);
      figure('offboarding.cloud_hr_to_refusal_p99_ms', percentile(samples, 99), 1);
      figure('offboarding.cloud_hr_to_refusal_max_ms', percentile(samples, 100), 1);
      bar('cloud_hr_to_refusal_p99_le_200_ms', percentile(samples, 99) <= BARS.cloudP99Ms);
    }

    // 2 and 3. Synced users: arrivals first (one pass, applied after the modelled delay).
    const { tenantId, ctx, hr } = await newTenant('bench-offboarding-federated');
    const streamId = `directory-sync-${tenantId}`;
    await app.get(ConnectDirectory).execute(
      tenantId,
      {
        url: LDAP_URL,
        caPem: CA,
        bindDn: env('LDAP_BIND_DN'),
        bindPassword: env('LDAP_BIND_PASSWORD'),
        writeBindDn: `Administrator@${REALM}`,
        writeBindPassword: env('SAMBA_ADMIN_PASSWORD'),
        baseDn: BASE_DN,
        usersOnlyUnder: OU,
        delayModel: { kind: 'fixed', delayMs: DELAY_MS },
      },
      ctx,
      new Date(),
    );
    const total = SYNCED_USERS + FAST_USERS;
    const appliedCount = async (): Promise<number> =>
      (
        await db.query(
          `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'DirectoryChangeApplied'`,
          [streamId],
        )
      )[0].n;
    const waitApplied = async (n: number, what: string) => {
      const deadline = Date.now() + DELAY_MS + 60_000;
      while ((await appliedCount()) < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
      }
    };
    await worker.syncTenant(tenantId, 'scheduled');
    await waitApplied(total, 'the synced users to arrive');
    const synced: Member[] = [];
    for (let i = 0; i < total; i++) {
      const username = `${adName(i)}@${REALM.toLowerCase()}`;
      const [row] = await db.query(`SELECT user_id FROM accounts WHERE tenant_id = $1 AND username = $2`, [
        tenantId,
        username,
      ]);
      if (!row) throw new Error(`${username} did not arrive`);
      synced.push(await withAppPassword(tenantId, row.user_id, username));
    }
    log(`federated: ${total} synced users arrived, each with an app password`);

    // 2. HR disables SYNCED_USERS users (written to AD), one pass detects them, the jobs apply them.
    const slow = synced.slice(0, SYNCED_USERS);
    for (const m of slow) await hr(m.username);
    const appliedBefore = await appliedCount();
    await worker.syncTenant(tenantId, 'scheduled');
    await waitApplied(appliedBefore + slow.length, 'the disables to be applied');
    await sleep(500); // anything applied twice would show now
    const rows: { late_ms: number }[] = await db.query(
      `SELECT (extract(epoch FROM (a.data ->> 'appliedAt')::timestamptz - (s.data ->> 'dueAt')::timestamptz) * 1000)::float8 AS late_ms
         FROM events a JOIN events s ON s.stream_id = a.stream_id AND s.type = 'DirectoryChangeScheduled'
          AND s.data ->> 'changeId' = a.data ->> 'changeId'
        WHERE a.stream_id = $1 AND a.type = 'DirectoryChangeApplied' AND a.seq > $2`,
      [streamId, await positionOf(db, streamId, appliedBefore)],
    );
    const late = rows.map((r) => r.late_ms);
    const refusedAfter = await Promise.all(slow.map(async (m) => !(await verify(tenantId, m)).allowed));
    log(`federated: ${late.length} disables applied; all refused now: ${refusedAfter.every(Boolean)}`);
    figure('offboarding.federated_applied_changes', late.length, 0);
    figure('offboarding.federated_applied_after_due_p50_ms', percentile(late, 50), 1);
    figure('offboarding.federated_applied_after_due_p99_ms', percentile(late, 99), 1);
    figure('offboarding.federated_applied_after_due_max_ms', percentile(late, 100), 1);
    figure('offboarding.federated_applied_before_due', late.filter((ms) => ms < 0).length, 0);
    bar(
      'federated_applied_within_1_s_of_due_p99',
      late.length === slow.length &&
        late.every((ms) => ms >= 0) &&
        percentile(late, 99) <= BARS.lateP99Ms &&
        refusedAfter.every(Boolean),
    );

    // 3. The fast path on: HR webhook → refused, with the AD write inside the request.
    await commands.execute(
      new RunTenantCommand(
        { type: 'ChangeTenantPolicy', data: { tenantId, patch: { fastPathOffboarding: true } } },
        ctx,
      ),
    );
    const samples: number[] = [];
    for (const m of synced.slice(SYNCED_USERS)) samples.push(await hrToRefusal(tenantId, hr, m));
    figure('offboarding.fast_path_users', samples.length, 0);
    figure('offboarding.fast_path_p50_ms', percentile(samples, 50), 1);
    figure('offboarding.fast_path_p99_ms', percentile(samples, 99), 1);
    figure('offboarding.fast_path_max_ms', percentile(samples, 100), 1);
    bar('fast_path_p99_le_1_s', percentile(samples, 99) <= BARS.fastP99Ms);

    await sleep(DELAY_MS + 1_000); // let the modelled propagation of the fast-path users settle
    await worker.syncTenant(tenantId, 'scheduled');
  } finally {
    for (const tenantId of tenants) {
      await db
        .query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId])
        .catch(() => undefined);
      await db
        .query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId])
        .catch(() => undefined);
    }
    for (const name of [DIRECTORY_CHANGES_QUEUE, OFFBOARDING_QUEUE]) {
      await app
        .get<Queue>(getQueueToken(name))
        .obliterate({ force: true })
        .catch(() => undefined);
    }
    await app.close();
  }
  process.exitCode = report.exitCode;
}

/** The seq of the stream's n-th DirectoryChangeApplied (0 when n = 0). */
async function positionOf(db: DataSource, streamId: string, n: number): Promise<string> {
  if (n === 0) return '0';
  const [row] = await db.query(
    `SELECT seq FROM events WHERE stream_id = $1 AND type = 'DirectoryChangeApplied'
      ORDER BY seq OFFSET $2 LIMIT 1`,
    [streamId, n - 1],
  );
  return String(row.seq);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
