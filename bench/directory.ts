/**
 * bench/directory: the sync worker's first DirSync pass over 10,000 Samba AD users and a delta of
 * 100 changes, each beside `ldapsearch -E dirSync` on the same directory, in the same run.
 * Run through bench/directory.sh, which sets up the environment. Prints one line per figure on
 * stdout (`name value`, and `directory.bar.<name> PASS|FAIL`); progress goes to stderr.
 *
 * The bench users live in their own OU (BENCH_DIR_OU, default OU=Bench,<base DN>), created once and
 * reused (creation is idempotent: existing users are skipped, disabled ones re-enabled). A fresh
 * tenant per run is connected with usersOnlyUnder = that OU, so its first pass is a first pass.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getQueueToken } from '@nestjs/bull';
import type { INestApplicationContext } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import type { Queue } from 'bull';
import { Attribute, Change, Client } from 'ldapts';
import { DataSource } from 'typeorm';
import { RunTenantCommand } from '@latchkey/app-passwords';
import { LatchkeyConfigModule } from '@latchkey/config';
import { readDirSyncPages, withDirectory, SYNC_ATTRIBUTES } from '@latchkey/directory';
import {
  ChangeScheduler,
  ConnectDirectory,
  DIRECTORY_CHANGES_QUEUE,
  DirectorySyncStreams,
  DirectorySyncWorkerModule,
  SyncScheduler,
} from '@latchkey/directory-sync';
import { JobsModule } from '@latchkey/jobs';
import { PersistenceModule } from '@latchkey/persistence';
import { Report } from './lib/report';

const ROOT = resolve(__dirname, '..');
const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};
const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const USERS = int('BENCH_DIR_USERS', 10_000);
const CHANGES = int('BENCH_DIR_CHANGES', 100);
// Long enough that no propagation job runs during the measured pass (production's cycle is 30 min).
const APPLY_DELAY_MS = int('BENCH_DIR_APPLY_DELAY_MS', 20_000);
const APPLY_TIMEOUT_S = int('BENCH_DIR_APPLY_TIMEOUT_S', 300);
const BASE_DN = env('LDAP_BASE_DN');
const OU = env('BENCH_DIR_OU', `OU=Bench,${BASE_DN}`);
const REALM = env('SAMBA_REALM');
const LDAP_URL = 'ldaps://127.0.0.1:636';
const CA_FILE = resolve(ROOT, env('LDAP_CA_FILE'));
const CA = readFileSync(CA_FILE, 'utf8');
const BARS = { firstSyncS: 60, deltaS: 2 };

const log = (message: string) => process.stderr.write(`[bench:directory] ${message}\n`);
const report = new Report();
const figure = (name: string, value: number, decimals: number) => report.figure(name, value, decimals);
const bar = (name: string, passed: boolean) => report.bar(`directory.bar.${name}`, passed);
const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;
const nameOf = (i: number) => `bench-u${String(i).padStart(5, '0')}`;

async function adminClient(): Promise<Client> {
  const client = new Client({ url: LDAP_URL, timeout: 120_000, tlsOptions: { ca: [CA] } });
  await client.bind(`Administrator@${REALM}`, env('SAMBA_ADMIN_PASSWORD'));
  return client;
}

/** Creates the OU and whichever of the USERS bench users are missing; re-enables disabled ones. */
async function seedDirectory(): Promise<void> {
  const admin = await adminClient();
  try {
    try {
      await admin.add(OU, [new Attribute({ type: 'objectClass', values: ['top', 'organizationalUnit'] })]);
      log(`created ${OU}`);
    } catch (error) {
      if (!/already exists|0x44/i.test(String(error))) throw error;
    }
    const { searchEntries } = await admin.search(OU, {
      scope: 'one',
      filter: '(objectClass=user)',
      attributes: ['sAMAccountName', 'userAccountControl'],
      paged: { pageSize: 1_000 },
    });
    const existing = new Map(
      searchEntries.map((e) => [String(e.sAMAccountName), Number(e.userAccountControl)]),
    );
    const missing = Array.from({ length: USERS }, (_, i) => nameOf(i)).filter((n) => !existing.has(n));
    const disabled = [...existing].filter(([n, uac]) => n.startsWith('bench-u') && uac & 0x2).map(([n]) => n);
    log(
      `${existing.size} users already under ${OU}; creating ${missing.length}, re-enabling ${disabled.length}`,
    );
    const startedAt = performance.now();
    // One connection: Samba serialises writes, and concurrent adds measured slower than sequential.
    for (const [k, name] of missing.entries()) {
      await admin.add(`CN=${name},${OU}`, [
        new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
        new Attribute({ type: 'sAMAccountName', values: [name] }),
        new Attribute({ type: 'userPrincipalName', values: [`${name}@${REALM.toLowerCase()}`] }),
        new Attribute({ type: 'displayName', values: [`Bench user ${name.slice(7)}`] }),
        // 0x200 normal account | 0x20 password not required: enabled without a password to hash.
        new Attribute({ type: 'userAccountControl', values: ['544'] }),
      ]);
      if ((k + 1) % 1_000 === 0)
        log(`  created ${k + 1}/${missing.length} (${seconds(startedAt).toFixed(0)} s)`);
    }
    for (const name of disabled) await setUac(admin, name, 544);
    if (missing.length > 0) {
      figure('directory.seed_created_users', missing.length, 0);
      figure('directory.seed_create_s', seconds(startedAt), 1);
    }
  } finally {
    await admin.unbind();
  }
}

const setUac = (client: Client, name: string, uac: number) =>
  client.modify(
    `CN=${name},${OU}`,
    new Change({
      operation: 'replace',
      modification: new Attribute({ type: 'userAccountControl', values: [String(uac)] }),
    }),
  );

interface LdapsearchRun {
  seconds: number;
  entries: number;
  cookie?: string;
}

/** `ldapsearch -E '!dirSync=0/0[/cookie]'` as the sync account, output to a file, timed end to end. */
function ldapsearchDirSync(dir: string, cookieBase64?: string): Promise<LdapsearchRun> {
  const out = join(dir, `ldapsearch-${randomUUID()}.ldif`);
  const control = cookieBase64 ? `!dirSync=0/0/${cookieBase64}` : '!dirSync=0/0';
  const args = [
    '-LLL',
    '-x',
    '-o',
    'ldif-wrap=no',
    '-H',
    LDAP_URL,
    '-D',
    env('LDAP_BIND_DN'),
    '-w',
    env('LDAP_BIND_PASSWORD'),
    '-E',
    control,
    '-b',
    BASE_DN,
    '(objectClass=user)',
    ...SYNC_ATTRIBUTES,
  ];
  return new Promise((done, fail) => {
    const startedAt = performance.now();
    const child = execFile(
      'bash',
      ['-c', 'exec ldapsearch "$@" > "$OUT"', 'ldapsearch', ...args],
      { env: { ...process.env, LDAPTLS_CACERT: CA_FILE, OUT: out }, maxBuffer: 1 << 20 },
      (error, _stdout, stderr) => {
        const elapsed = seconds(startedAt);
        if (error) return fail(new Error(`ldapsearch failed: ${stderr || error.message}`));
        const text = readFileSync(out, 'utf8');
        rmSync(out);
        const entries = (text.match(/^dn: /gm) ?? []).length + (text.match(/^dn:: /gm) ?? []).length;
        const cookie = /^# cookie:: (\S+)/m.exec(text)?.[1];
        if (/continueFlag=1/.test(text))
          log('ldapsearch: the server has more (continueFlag=1): one page timed');
        done({ seconds: elapsed, entries, cookie });
      },
    );
    child.stdin?.end();
  });
}

/** Marks the measured pass: only calls made inside it count in the phase totals. */
const measured = new AsyncLocalStorage<true>();

/**
 * Times the named methods of a provider instance when called from inside `measured` (bench-only
 * instrumentation; app code unchanged; the propagation jobs' own calls are not counted).
 */
function instrument(target: object, methods: string[], totals: Map<string, number>, label: string) {
  for (const method of methods) {
    const record = target as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = record[method].bind(target);
    record[method] = async (...args: unknown[]) => {
      if (!measured.getStore()) return original(...args);
      const startedAt = performance.now();
      try {
        return await original(...args);
      } finally {
        const key = `${label}.${method}`;
        totals.set(key, (totals.get(key) ?? 0) + (performance.now() - startedAt));
      }
    };
  }
}

@Module({
  imports: [LatchkeyConfigModule.forRoot(), PersistenceModule, JobsModule, DirectorySyncWorkerModule],
})
class DirectoryBenchModule {}

async function main(): Promise<void> {
  log(`seeding ${USERS} users under ${OU} (idempotent)`);
  await seedDirectory();

  const tmp = mkdtempSync(join(tmpdir(), 'latchkey-bench-directory-'));
  let app: INestApplicationContext | undefined;
  const tenantId = randomUUID();
  const streamId = `directory-sync-${tenantId}`;
  try {
    app = await NestFactory.createApplicationContext(DirectoryBenchModule, { logger: ['error', 'warn'] });
    const db = app.get(DataSource);
    const commands = app.get(CommandBus);
    const queue = app.get<Queue>(getQueueToken(DIRECTORY_CHANGES_QUEUE));
    const worker = app.get(SyncScheduler);
    const phases = new Map<string, number>();
    instrument(app.get(DirectorySyncStreams), ['load', 'execute'], phases, 'stream');
    instrument(app.get(ChangeScheduler), ['reconcile', 'follow'], phases, 'scheduler');
    const counts = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (
          await db.query(`SELECT type, count(*)::int AS n FROM events WHERE stream_id = $1 GROUP BY type`, [
            streamId,
          ])
        ).map((r: { type: string; n: number }) => [r.type, r.n]),
      );
    const ctx = { tenantId, actor: { kind: 'admin' as const } };
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: { tenantId, name: 'bench-directory', policy: { appPasswordsAllowed: true } },
        },
        ctx,
      ),
    );
    const connection = {
      url: LDAP_URL,
      caPem: CA,
      bindDn: env('LDAP_BIND_DN'),
      bindPassword: env('LDAP_BIND_PASSWORD'),
      baseDn: BASE_DN,
    };
    await app
      .get(ConnectDirectory)
      .execute(
        tenantId,
        { ...connection, usersOnlyUnder: OU, delayModel: { kind: 'fixed', delayMs: APPLY_DELAY_MS } },
        ctx,
        new Date(),
      );
    log(`tenant ${tenantId} connected (usersOnlyUnder ${OU}, fixed delay ${APPLY_DELAY_MS} ms)`);

    // 1. First pass, beside ldapsearch (one unmeasured ldapsearch first, so neither reads a cold DC).
    await ldapsearchDirSync(tmp);
    const full = await ldapsearchDirSync(tmp);
    log(`ldapsearch dirSync (full): ${full.entries} entries in ${full.seconds.toFixed(2)} s`);
    let startedAt = performance.now();
    const read = await withDirectory(
      connection,
      async (client) => {
        let n = 0;
        for await (const page of readDirSyncPages(client, BASE_DN, undefined)) n += page.entries.length;
        return n;
      },
      120_000,
    );
    const readS = seconds(startedAt);
    log(`the app's DirSync reader alone (ldapts, no recording): ${read} entries in ${readS.toFixed(2)} s`);

    phases.clear();
    startedAt = performance.now();
    await measured.run(true, () => worker.syncTenant(tenantId, 'scheduled'));
    const firstS = seconds(startedAt);
    const afterFirst = await counts();
    const firstOk =
      (afterFirst.SyncPassCompleted ?? 0) === 1 && (afterFirst.DirectoryChangeDetected ?? 0) >= USERS;
    log(`first pass: ${firstS.toFixed(2)} s; events ${JSON.stringify(afterFirst)}`);
    log(`  phases (ms): ${[...phases].map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' ')}`);
    if (!firstOk) log('first pass did NOT complete with every bench user detected (see the warning above)');
    figure('directory.ldapsearch_dirsync_10k_s', full.seconds, 3);
    figure('directory.ldapsearch_dirsync_10k_entries', full.entries, 0);
    figure('directory.app_dirsync_read_10k_s', readS, 3);
    figure('directory.first_sync_10k_s', firstOk ? firstS : NaN, 3);
    figure('directory.first_sync_10k_detected', afterFirst.DirectoryChangeDetected ?? 0, 0);
    figure('directory.first_sync_vs_ldapsearch_ratio', firstS / full.seconds, 1);
    figure('directory.first_sync_phase_stream_load_s', (phases.get('stream.load') ?? 0) / 1000, 3);
    figure('directory.first_sync_phase_stream_execute_s', (phases.get('stream.execute') ?? 0) / 1000, 3);
    figure('directory.first_sync_phase_schedule_jobs_s', (phases.get('scheduler.follow') ?? 0) / 1000, 3);
    bar('first_sync_10k_le_60_s', firstOk && firstS <= BARS.firstSyncS);

    // The 10,000 arrivals are applied by the worker's jobs (steady state before the delta).
    startedAt = performance.now();
    const deadline = Date.now() + APPLY_TIMEOUT_S * 1000;
    let applied = 0;
    while (Date.now() < deadline) {
      applied = (await counts()).DirectoryChangeApplied ?? 0;
      if (applied >= (afterFirst.DirectoryChangeScheduled ?? 0)) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    // Wall time from the end of the first pass (so including the modelled delay itself).
    const applyS = seconds(startedAt);
    log(`arrivals applied: ${applied}/${afterFirst.DirectoryChangeScheduled} after ~${applyS.toFixed(1)} s`);
    // How late the worker applied changes that all fell due at (nearly) the same instant: by the
    // event's appliedAt, and by when its append committed (recorded_at).
    const [late] = await db.query(
      `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
              max(ms) AS max, count(*) FILTER (WHERE ms < 0) AS early,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY recorded_ms) AS recorded_p50,
              percentile_disc(0.99) WITHIN GROUP (ORDER BY recorded_ms) AS recorded_p99,
              max(recorded_ms) AS recorded_max, count(DISTINCT instant) AS instants
         FROM (SELECT extract(epoch FROM (a.data ->> 'appliedAt')::timestamptz - (s.data ->> 'dueAt')::timestamptz) * 1000 AS ms,
                      extract(epoch FROM a.recorded_at - (s.data ->> 'dueAt')::timestamptz) * 1000 AS recorded_ms,
                      s.data ->> 'dueAt' AS instant
                 FROM events a JOIN events s ON s.stream_id = a.stream_id AND s.type = 'DirectoryChangeScheduled'
                  AND s.data ->> 'changeId' = a.data ->> 'changeId'
                WHERE a.stream_id = $1 AND a.type = 'DirectoryChangeApplied') t`,
      [streamId],
    );
    figure('directory.apply_10k_arrivals_due_instants', Number(late.instants), 0);
    figure('directory.apply_10k_arrivals_late_p50_ms', Number(late.p50), 0);
    figure('directory.apply_10k_arrivals_late_p99_ms', Number(late.p99), 0);
    figure('directory.apply_10k_arrivals_late_max_ms', Number(late.max), 0);
    figure('directory.apply_10k_arrivals_before_due', Number(late.early), 0);
    figure('directory.apply_10k_arrivals_recorded_late_p50_ms', Number(late.recorded_p50), 0);
    figure('directory.apply_10k_arrivals_recorded_late_p99_ms', Number(late.recorded_p99), 0);
    figure('directory.apply_10k_arrivals_recorded_late_max_ms', Number(late.recorded_max), 0);
    figure(
      'directory.apply_10k_arrivals_s',
      applied >= (afterFirst.DirectoryChangeScheduled ?? 0) ? applyS : NaN,
      1,
    );

    // 2. Delta: disable CHANGES users in AD, then ldapsearch from the stored cookie, then the pass.
    const [{ cookie }] = await db.query(`SELECT cookie FROM directory_sync_cookies WHERE tenant_id = $1`, [
      tenantId,
    ]);
    const admin = await adminClient();
    startedAt = performance.now();
    for (let i = 0; i < CHANGES; i++) await setUac(admin, nameOf(i), 546);
    log(`disabled ${CHANGES} users in AD in ${seconds(startedAt).toFixed(2)} s`);
    const delta = await ldapsearchDirSync(tmp, (cookie as Buffer).toString('base64'));
    log(
      `ldapsearch dirSync from the stored cookie: ${delta.entries} entries in ${delta.seconds.toFixed(3)} s`,
    );
    phases.clear();
    startedAt = performance.now();
    await measured.run(true, () => worker.syncTenant(tenantId, 'scheduled'));
    const deltaS = seconds(startedAt);
    const afterDelta = await counts();
    const detected = (afterDelta.DirectoryChangeDetected ?? 0) - (afterFirst.DirectoryChangeDetected ?? 0);
    const deltaOk = (afterDelta.SyncPassCompleted ?? 0) === 2 && detected >= CHANGES;
    log(`delta pass: ${deltaS.toFixed(3)} s, ${detected} changes detected`);
    log(`  phases (ms): ${[...phases].map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' ')}`);
    figure('directory.ldapsearch_dirsync_delta_100_s', delta.seconds, 3);
    figure('directory.ldapsearch_dirsync_delta_100_entries', delta.entries, 0);
    figure('directory.delta_100_s', deltaOk ? deltaS : NaN, 3);
    figure('directory.delta_100_detected', detected, 0);
    figure('directory.delta_vs_ldapsearch_ratio', deltaS / delta.seconds, 1);
    figure('directory.delta_phase_stream_load_s', (phases.get('stream.load') ?? 0) / 1000, 3);
    figure('directory.delta_phase_reconcile_s', (phases.get('scheduler.reconcile') ?? 0) / 1000, 3);
    bar('delta_100_le_2_s', deltaOk && deltaS <= BARS.deltaS);

    // Leave the directory as found: the disabled users enabled again (the next run re-checks anyway).
    for (let i = 0; i < CHANGES; i++) await setUac(admin, nameOf(i), 544);
    await admin.unbind();
    await queue.obliterate({ force: true }); // this bench's Redis prefix only
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    if (app) {
      const db = app.get(DataSource);
      // The bench tenant stays in the events (history), but no later process will sync it again.
      await db
        .query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId])
        .catch(() => undefined);
      await db
        .query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId])
        .catch(() => undefined);
      await app.close();
    }
  }
  process.exitCode = report.exitCode;
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
