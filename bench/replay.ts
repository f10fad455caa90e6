/**
 * bench/replay: rebuilding every read model from the event store (≥ 1,000,000 events), beside the raw
 * read speed of the events table in the same run (COPY of the events to a discarded stream).
 * Run through bench/replay.sh. Prints one line per figure on stdout; progress on stderr.
 */
import { spawn } from 'node:child_process';
import { rebuildReadModels } from '@latchkey/audit';
import { dataSourceOptions } from '@latchkey/persistence';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { AppPasswordHasher } from '../libs/app-passwords/src/infrastructure/app-password-hasher';
import { Report } from './lib/report';
import { clientIpOf, newRows, tenantRows, userRows, writeRows } from './lib/seed';
import { createPool, loadSettings, log, type BenchSettings } from './lib/settings';

const BAR_EVENTS_PER_S = 50_000;
const EVENTS_PER_STATEMENT = 30_000;
const SIGN_INS_PER_STATEMENT = 100_000;
const TARGET_EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000);
const REPLAY_TENANT = 'b3e70000-0000-4000-8000-5e91a7000001';

async function count(pool: Pool, sql: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql);
  return Number(rows[0].n);
}

/**
 * At least TARGET_EVENTS events: users with app passwords through the real deciders (bench/lib/seed),
 * unless the database already holds some, then legacy sign-ins of those app passwords, written in bulk
 * (set-based INSERT … SELECT) on the tenant's sign-in streams, to make up the rest.
 */
async function ensureEvents(pool: Pool, settings: BenchSettings, report: Report): Promise<number> {
  let events = await count(pool, `SELECT count(*) AS n FROM events`);
  if (events >= TARGET_EVENTS) {
    log(`${events} events already stored`);
    return events;
  }
  const started = Date.now();
  if ((await count(pool, `SELECT count(*) AS n FROM credentials`)) === 0) {
    const users = settings.users;
    log(`seeding ${users} users × ${settings.passwordsPerUser} app passwords …`);
    const hasher = new AppPasswordHasher(settings.config.appPasswords.pepper);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      let rows = newRows();
      const policy = tenantRows(rows, REPLAY_TENANT, 'bench replay', { appPasswordsAllowed: true });
      for (let i = 0; i < users; i++) {
        userRows(rows, hasher, {
          tenantId: REPLAY_TENANT,
          tenantPolicy: policy,
          username: `replay${String(i).padStart(6, '0')}@bench.latchkey.test`,
          clientIp: clientIpOf(i),
          appPasswords: settings.passwordsPerUser,
        });
        if (rows.size >= EVENTS_PER_STATEMENT || i === users - 1) {
          await writeRows(client, rows);
          rows = newRows();
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    events = await count(pool, `SELECT count(*) AS n FROM events`);
  }
  // Sign-ins: nine successes to one refusal, spread over the existing app passwords and two lanes.
  await pool.query(`DROP TABLE IF EXISTS replay_bench_credentials`);
  await pool.query(
    `CREATE UNLOGGED TABLE replay_bench_credentials AS
     SELECT row_number() OVER () AS n, c.app_password_id, c.user_id, c.tenant_id, a.username
     FROM credentials c JOIN accounts a USING (user_id) WHERE c.revoked_at IS NULL AND a.status = 'active'`,
  );
  const credentials = await count(pool, `SELECT count(*) AS n FROM replay_bench_credentials`);
  if (credentials === 0)
    throw new Error('no app passwords to sign in with: start from an empty bench database');
  while (events < TARGET_EVENTS) {
    const batch = Math.min(SIGN_INS_PER_STATEMENT, TARGET_EVENTS - events);
    await pool.query(
      `WITH picked AS (
         SELECT g, c.*, g % 2 AS lane, clock_timestamp() - (($1 - g) * interval '1 millisecond') AS at
         FROM generate_series(1, $1::int) AS g
         JOIN replay_bench_credentials c ON c.n = 1 + (g * 7919) % $2),
       lanes AS (
         INSERT INTO streams (id, type, tenant_id, version)
         SELECT DISTINCT 'sign-ins-' || tenant_id || '-' || lane, 'sign-ins', tenant_id, 0 FROM picked
         ON CONFLICT (id) DO NOTHING RETURNING id),
       numbered AS (
         SELECT p.*, 'sign-ins-' || p.tenant_id || '-' || p.lane AS stream_id,
                row_number() OVER (PARTITION BY p.tenant_id, p.lane ORDER BY g) AS k
         FROM picked p)
       INSERT INTO events (id, stream_id, version, type, tenant_id, actor, data, occurred_at)
       SELECT gen_random_uuid(), n.stream_id, coalesce(s.version, 0) + n.k,
              CASE WHEN g % 10 = 0 THEN 'LegacySignInFailed' ELSE 'LegacySignInSucceeded' END,
              n.tenant_id, '{"kind":"gateway"}',
              jsonb_build_object('username', n.username, 'userId', n.user_id,
                'appPasswordId', CASE WHEN g % 10 = 0 THEN NULL ELSE n.app_password_id END,
                'protocol', 'imap', 'action', 'sign-in', 'clientIp', '192.0.2.' || (g % 250),
                'reason', CASE WHEN g % 10 = 0 THEN 'invalid-credentials' END,
                'rule', NULL, 'attemptedAt', to_char(n.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
              n.at
       FROM numbered n LEFT JOIN streams s ON s.id = n.stream_id
       ORDER BY g`,
      [batch, credentials],
    );
    await pool.query(
      `UPDATE streams s SET version = m.version FROM (SELECT stream_id, max(version) AS version FROM events
       WHERE stream_id LIKE 'sign-ins-%' GROUP BY stream_id) m WHERE s.id = m.stream_id`,
    );
    events += batch;
    log(`  ${events} events`);
  }
  await pool.query(`DROP TABLE replay_bench_credentials`);
  log(`VACUUM ANALYZE …`);
  await pool.query(`VACUUM (ANALYZE) events, streams`);
  report.figure('replay.seed.seconds', (Date.now() - started) / 1000, 1);
  return count(pool, `SELECT count(*) AS n FROM events`);
}

/** COPY of the events table (every column a reader needs) to psql's stdout, discarded. */
async function rawReadSeconds(settings: BenchSettings): Promise<number> {
  const { host, port, user, password, database } = settings.config.postgres;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const psql = spawn(
      'psql',
      [
        '-X',
        '-q',
        '-h',
        host,
        '-p',
        String(port),
        '-U',
        user,
        '-d',
        database,
        '-c',
        `COPY (SELECT seq, id, stream_id, version, type, tenant_id, actor, data, occurred_at FROM events ORDER BY seq) TO STDOUT`,
      ],
      { env: { ...process.env, PGPASSWORD: password }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    psql.on('error', reject);
    psql.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited with ${code}`))));
  });
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const settings = loadSettings();
  const report = new Report();
  const pool = createPool(settings.config);
  const db = await new DataSource({
    ...dataSourceOptions(settings.config),
    applicationName: 'latchkey-bench-replay',
  } as ReturnType<typeof dataSourceOptions>).initialize();
  try {
    const events = await ensureEvents(pool, settings, report);
    report.figure('replay.events', events);
    const before = await pool.query(
      `SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM credentials) AS credentials`,
    );

    log('raw read: COPY (SELECT … FROM events) TO STDOUT, discarded …');
    const rawSeconds = await rawReadSeconds(settings);
    const rawRate = events / rawSeconds;
    report.figure('replay.raw_read.seconds', rawSeconds, 2);
    report.figure('replay.raw_read.events_per_s', rawRate);

    log('rebuilding every read model …');
    let shown = 0;
    const result = await rebuildReadModels(db, {
      onProgress: ({ phase, events: read, total }) => {
        if (read - shown >= 100_000 || phase !== 'bulk') {
          shown = read;
          log(`  ${phase}: ${read}/${total} events`);
        }
      },
    });
    const rate = result.events / result.seconds.total;
    report.figure('replay.rebuild.events', result.events);
    report.figure('replay.rebuild.seconds', result.seconds.total, 2);
    report.figure('replay.rebuild.bulk_seconds', result.seconds.bulk, 2);
    report.figure('replay.rebuild.index_seconds', result.seconds.indexes, 2);
    report.figure('replay.rebuild.swap_seconds', result.seconds.swap, 3);
    report.figure('replay.rebuild.events_per_s', rate);
    report.figure('replay.rebuild_to_raw_read_ratio', rate / rawRate, 3);
    const after = await pool.query(
      `SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM credentials) AS credentials,
              (SELECT count(*) FROM credential_usage) AS usage, (SELECT count(*) FROM sign_in_activity) AS activity`,
    );
    report.figure('replay.rebuilt.accounts', Number(after.rows[0].accounts));
    report.figure('replay.rebuilt.credentials', Number(after.rows[0].credentials));
    report.figure('replay.rebuilt.credential_usage', Number(after.rows[0].usage));
    report.figure('replay.rebuilt.sign_in_activity', Number(after.rows[0].activity));
    const same =
      before.rows[0].accounts === after.rows[0].accounts &&
      before.rows[0].credentials === after.rows[0].credentials;
    report.bar('replay.rebuilt_counts_match_live', same);
    report.bar(
      'replay.bar.rebuild_ge_50000_events_per_s',
      events >= 1_000_000 && result.events >= events && rate >= BAR_EVENTS_PER_S,
    );
  } finally {
    await db.destroy();
    await pool.end();
  }
  process.exitCode = report.exitCode;
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
});
