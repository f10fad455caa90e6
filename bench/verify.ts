/**
 * bench/verify: legacy verification throughput and latency of the real API, beside a bare
 * node:http + pg server doing the same lookup, in the same run, loaded the same way (wrk).
 * Run through bench/verify.sh, which sets up the environment. Prints one line per figure on stdout.
 */
import {
  closeSync,
  createWriteStream,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { AppPasswordHasher } from '../libs/app-passwords/src/infrastructure/app-password-hasher';
import { checkProjectionSample } from './lib/projection-check';
import { cpuBetween, cpuSnapshot, waitForQuiet } from './lib/cpu';
import { outboxBacklog, vacuum, waitForDrain } from './lib/drain';
import { benchKafka, consumerLag } from './lib/kafka';
import { applicationLookup } from './lib/lookup';
import { httpJson, startApi, startServer, type Server } from './lib/processes';
import { Report } from './lib/report';
import { clientIpOf, newRows, tenantRows, userRows, writeRows } from './lib/seed';
import { createPool, loadSettings, log, RESULTS, type BenchSettings } from './lib/settings';
import { mintToken } from './lib/tokens';
import { runWrk, type WrkResult } from './lib/wrk';

const BARS = { throughputRps: 3_000, p99Ms: 20, ratio: 0.5 };
const EVENTS_PER_STATEMENT = 30_000;
const API_SAMPLE_USERS = 20;
const PROJECTION_SAMPLE_USERS = 200;

interface Dataset {
  tenantId: string;
  credentialsFile: string;
}

interface Credential {
  username: string;
  password: string;
  clientIp: string;
  userId: string;
}

/** One tenant per data-set size, so a small trial data set never collides with the full one. */
const tenantIdFor = (users: number, perUser: number): string =>
  `b3e70000-0000-4000-8000-${users.toString(16).padStart(10, '0')}${perUser.toString(16).padStart(2, '0')}`;
const usernameOf = (index: number): string => `user${String(index).padStart(6, '0')}@bench.latchkey.test`;

function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(512);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read).toString('utf8').split('\n')[0];
  } finally {
    closeSync(fd);
  }
}

/** Seeds the data set unless this database and the credentials file already hold it (the marker). */
async function ensureDataset(pool: Pool, settings: BenchSettings, report: Report): Promise<Dataset> {
  const { users, passwordsPerUser: perUser } = settings;
  const tenantId = tenantIdFor(users, perUser);
  // The passwords exist only in this file: one file per database and size.
  const database = settings.config.postgres.database;
  const credentialsFile = join(RESULTS, `verify-credentials-${database}-${users}x${perUser}.tsv`);
  const header =
    `# latchkey bench verify data set: database=${database} tenant=${tenantId} users=${users} ` +
    `app_passwords_per_user=${perUser}`;
  const {
    rows: [found],
  } = await pool.query<{ tenant: boolean; accounts: string; credentials: string }>(
    `SELECT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $1) AS tenant,
            (SELECT count(*) FROM accounts WHERE tenant_id = $1) AS accounts,
            (SELECT count(*) FROM credentials WHERE tenant_id = $1) AS credentials`,
    [tenantId],
  );
  const complete =
    found.tenant && Number(found.accounts) === users && Number(found.credentials) === users * perUser;
  if (complete && existsSync(credentialsFile) && firstLine(credentialsFile) === header) {
    log(`data set already seeded (tenant ${tenantId}); credentials in ${credentialsFile}`);
    report.figure('verify.seed.reused', 1);
    return { tenantId, credentialsFile };
  }
  if (found.tenant) {
    throw new Error(
      `the bench database holds tenant ${tenantId} but not with ${users} users × ${perUser} app passwords and ` +
        `the matching ${credentialsFile} (whose passwords exist nowhere else). Start from an empty bench ` +
        `database (psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE ${database}'), then run this again.`,
    );
  }

  log(`seeding ${users} users × ${perUser} app passwords into ${settings.config.postgres.database} …`);
  const started = Date.now();
  const hasher = new AppPasswordHasher(settings.config.appPasswords.pepper);
  const temp = `${credentialsFile}.partial`;
  const out = createWriteStream(temp, { mode: 0o600 });
  out.write(`${header}\n`);
  const client = await pool.connect();
  let events = 0;
  try {
    await client.query('BEGIN');
    let rows = newRows();
    const policy = tenantRows(rows, tenantId, `bench verify ${users}x${perUser}`, {
      appPasswordsAllowed: true,
    });
    for (let i = 0; i < users; i++) {
      const user = userRows(rows, hasher, {
        tenantId,
        tenantPolicy: policy,
        username: usernameOf(i),
        clientIp: clientIpOf(i),
        appPasswords: perUser,
      });
      for (const password of user.passwords) {
        out.write(`${user.username}\t${password}\t${user.clientIp}\t${user.userId}\n`);
      }
      if (rows.size >= EVENTS_PER_STATEMENT || i === users - 1) {
        events += rows.size;
        await writeRows(client, rows);
        rows = newRows();
        log(`  ${i + 1} users, ${events} events`);
      }
    }
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    out.destroy();
    throw error;
  } finally {
    client.release();
  }
  renameSync(temp, credentialsFile);
  const seededS = (Date.now() - started) / 1000;
  log(`seeded ${events} events in ${seededS.toFixed(1)} s; VACUUM ANALYZE …`);
  await pool.query(`VACUUM (ANALYZE) tenants, accounts, credentials, streams, events, outbox`);
  report.figure('verify.seed.seconds', seededS, 1);
  report.figure('verify.seed.events', events);
  report.figure('verify.seed.events_per_s', events / seededS);
  return { tenantId, credentialsFile };
}

function readCredentials(file: string): Credential[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [username, password, clientIp, userId] = line.split('\t');
      return { username, password, clientIp, userId };
    });
}

/** Sample users through the real API: their app-password list, and each password verifies. */
async function checkThroughApi(
  api: Server,
  settings: BenchSettings,
  dataset: Dataset,
  credentials: Credential[],
  gatewayToken: string,
): Promise<{ users: number; ok: number }> {
  const perUser = settings.passwordsPerUser;
  let ok = 0;
  for (let n = 0; n < API_SAMPLE_USERS; n++) {
    const first = Math.floor(Math.random() * settings.users) * perUser;
    const mine = credentials.slice(first, first + perUser);
    const userToken = await mintToken(settings.config, {
      tenantId: dataset.tenantId,
      subject: mine[0].userId,
      roles: ['user'],
    });
    const list = await httpJson(api.port, 'GET', '/v1/me/app-passwords', userToken);
    const listed = new Set(
      Array.isArray(list.body) ? (list.body as { appPasswordId: string }[]).map((p) => p.appPasswordId) : [],
    );
    const verified = new Set<string>();
    for (const c of mine) {
      const answer = await httpJson(api.port, 'POST', '/v1/sign-ins/verify', gatewayToken, {
        username: c.username,
        password: c.password,
        protocol: 'imap',
        clientIp: c.clientIp,
      });
      const verdict = answer.body as { allowed?: boolean; userId?: string; appPasswordId?: string };
      if (answer.status === 200 && verdict.allowed === true && verdict.userId === c.userId) {
        verified.add(verdict.appPasswordId ?? '');
      }
    }
    const good =
      list.status === 200 &&
      listed.size === perUser &&
      verified.size === perUser &&
      [...verified].every((id) => listed.has(id));
    if (good) ok += 1;
    else
      log(
        `API sample check failed for ${mine[0].username}: list ${list.status} ${JSON.stringify(list.body)}`,
      );
  }
  return { users: API_SAMPLE_USERS, ok };
}

interface Measurement {
  /** Closed loop, `connections` connections, as fast as answers come: the throughput. */
  saturated: WrkResult;
  /** Open loop at the bar's rate: the latency a gateway sees at 3,000 verifications/s. */
  paced: WrkResult;
  cpu: { server: number; postgres: number; other: number; machineBusyPct: number };
  /** How busy the machine was just before, with this bench's server idle (someone else's load). */
  backgroundBusyPct: number;
  /** When the saturated run started and ended (epoch ms). */
  window: { from: number; to: number };
}

/**
 * Warm-up (not counted), a saturated run (with the CPU use of the server, PostgreSQL and everything
 * else, wrk included), then a run paced at the bar's rate. Both servers are measured by this.
 */
async function measure(
  label: string,
  server: Server,
  settings: BenchSettings,
  env: Record<string, string>,
): Promise<Measurement> {
  const url = `http://127.0.0.1:${server.port}`;
  const common = { url, script: 'verify.lua', threads: settings.threads, durationS: settings.durationS };
  const closed = { ...common, connections: settings.connections, env };
  const background = await waitForQuiet(settings.quietWaitS);
  if (background > 0.15)
    log(`WARNING: the machine was ${(background * 100).toFixed(0)} % busy before ${label}`);
  if (settings.warmupS > 0) {
    await runWrk({ ...closed, label: `${label} warm-up`, durationS: settings.warmupS });
  }
  const pid = server.child.pid ?? 0;
  const before = cpuSnapshot([pid]);
  const from = Date.now();
  const saturated = await runWrk({ ...closed, label: `${label} saturated` });
  const to = Date.now();
  const used = cpuBetween(before, cpuSnapshot([pid]));
  const serverCores = used.processes.get(pid) ?? NaN;
  const busyCores = used.machineBusyShare * availableParallelism();
  const cpu = {
    server: serverCores,
    postgres: used.postgres,
    other: busyCores - serverCores - used.postgres,
    machineBusyPct: used.machineBusyShare * 100,
  };
  const paced = await runWrk({
    ...common,
    label: `${label} paced at ${BARS.throughputRps}/s`,
    connections: Math.max(64, 2 * settings.connections),
    env: { ...env, BENCH_RATE: String(BARS.throughputRps), BENCH_THREADS: String(settings.threads) },
  });
  log(
    `${label}: saturated ${saturated.rps.toFixed(0)} req/s (p99 ${saturated.latencyMs.p99.toFixed(2)} ms); ` +
      `at ${BARS.throughputRps}/s: ${paced.rps.toFixed(0)} req/s, p99 ${paced.latencyMs.p99.toFixed(2)} ms; ` +
      `cores: server ${cpu.server.toFixed(2)}, postgres ${cpu.postgres.toFixed(2)}, other ${cpu.other.toFixed(2)}`,
  );
  return { saturated, paced, cpu, backgroundBusyPct: background * 100, window: { from, to } };
}

const errorsOf = (r: WrkResult): number =>
  r.counters.non_200 + r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;

function reportRun(
  report: Report,
  prefix: string,
  { saturated, paced, cpu, backgroundBusyPct }: Measurement,
): void {
  report.figure(`${prefix}.background_busy_pct_before`, backgroundBusyPct, 0);
  report.figure(`${prefix}.throughput_rps`, saturated.rps);
  report.figure(`${prefix}.saturated_p50_ms`, saturated.latencyMs.p50, 2);
  report.figure(`${prefix}.saturated_p99_ms`, saturated.latencyMs.p99, 2);
  report.figure(`${prefix}.saturated_requests`, saturated.requests);
  report.figure(`${prefix}.saturated_errors`, errorsOf(saturated));
  report.figure(`${prefix}.at_3000_rps.achieved_rps`, paced.rps);
  report.figure(`${prefix}.at_3000_rps.p50_ms`, paced.latencyMs.p50, 2);
  report.figure(`${prefix}.at_3000_rps.p90_ms`, paced.latencyMs.p90, 2);
  report.figure(`${prefix}.at_3000_rps.p99_ms`, paced.latencyMs.p99, 2);
  report.figure(`${prefix}.at_3000_rps.max_ms`, paced.latencyMs.max, 1);
  report.figure(`${prefix}.at_3000_rps.errors`, errorsOf(paced));
  report.figure(`${prefix}.checked_responses`, saturated.counters.checked + paced.counters.checked);
  report.figure(`${prefix}.checked_allowed_true`, saturated.counters.allowed + paced.counters.allowed);
  report.figure(`${prefix}.server_cpu_cores`, cpu.server, 2);
  report.figure(`${prefix}.postgres_cpu_cores`, cpu.postgres, 2);
  report.figure(`${prefix}.other_cpu_cores`, cpu.other, 2);
  report.figure(`${prefix}.machine_cpu_busy_pct`, cpu.machineBusyPct, 0);
}

/** Every checked answer was `allowed: true`, and no request failed. */
const allowedAndClean = ({ saturated, paced }: Measurement): boolean =>
  [saturated, paced].every(
    (r) => r.counters.checked > 0 && r.counters.allowed === r.counters.checked && errorsOf(r) === 0,
  );

async function main(): Promise<number> {
  const settings = loadSettings();
  const report = new Report();
  const pool = createPool(settings.config);
  const kafka: Kafka = benchKafka(settings.config);
  try {
    const dataset = await ensureDataset(pool, settings, report);
    report.figure('verify.dataset.users', settings.users);
    report.figure('verify.dataset.app_passwords', settings.users * settings.passwordsPerUser);

    // The bulk-written projection rows, against the real CredentialsProjection replaying the events.
    const client = await pool.connect();
    const projection = await checkProjectionSample(client, dataset.tenantId, PROJECTION_SAMPLE_USERS).finally(
      () => client.release(),
    );
    report.figure('verify.seed.projection_sample_rows', projection.rows);
    report.figure('verify.seed.projection_sample_mismatches', projection.mismatches);
    report.bar(
      'verify.bar.seed_rows_equal_real_projection',
      projection.rows > 0 && projection.mismatches === 0,
    );

    const lookup = applicationLookup();
    report.figure('verify.baseline.lookup_sql_taken_from_api_build', lookup.fromApplication ? 1 : 0);
    if (!lookup.fromApplication)
      log('WARNING: no LOOKUP in the built handler: the baseline runs its own copy');

    const credentials = readCredentials(dataset.credentialsFile);
    const gatewayToken = await mintToken(settings.config, {
      tenantId: dataset.tenantId,
      subject: 'bench-gateway',
      roles: ['gateway'],
    });
    const loadEnv = {
      BENCH_CREDENTIALS: dataset.credentialsFile,
      BENCH_PER_USER: String(settings.passwordsPerUser),
    };

    // Setup through the API: spot checks, and each user's first sign-in (which makes the client's
    // network familiar to smart lockout, one write per user) so that the measurement sees steady state.
    let api = await startApi(settings.apiPort, 'api-setup');
    try {
      const sample = await checkThroughApi(api, settings, dataset, credentials, gatewayToken);
      report.figure('verify.seed.api_sample_users', sample.users);
      report.figure('verify.seed.api_sample_users_ok', sample.ok);
      report.bar('verify.bar.seed_sample_verified_through_api', sample.ok === sample.users);

      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM sign_in_lockouts WHERE tenant_id = $1`,
        [dataset.tenantId],
      );
      if (Number(rows[0].n) < settings.users) {
        log(`first sign-in of each of ${settings.users} users through the API (once per data set) …`);
        const first = await runWrk({
          label: 'first sign-ins',
          url: `http://127.0.0.1:${api.port}`,
          script: 'verify.lua',
          threads: settings.threads,
          connections: settings.connections,
          durationS: 900,
          env: { ...loadEnv, BENCH_MODE: 'sequential', BENCH_TOKEN: gatewayToken },
        });
        report.figure('verify.first_sign_in.api.throughput_rps', first.rps);
        report.figure('verify.first_sign_in.api.p99_ms', first.latencyMs.p99, 2);
        report.figure('verify.first_sign_in.api.checked_responses', first.counters.checked);
        report.figure('verify.first_sign_in.api.checked_allowed_true', first.counters.allowed);
      }
      const before = await waitForDrain(pool, kafka, settings.config, 180, 'after setup');
      // Left unpublished, it is work (or a jam) the measured API would inherit: say so.
      report.figure('verify.outbox_backlog_before_measuring', before.outboxLeft);
      if (before.outboxLeft > 0)
        log(`WARNING: ${before.outboxLeft} events still unpublished; see the API log`);
      await vacuum(pool);
    } finally {
      await api.stop();
    }

    // Baseline and API are measured in turn, `rounds` times, both servers up all along: on a shared
    // machine the background drifts over minutes, and a ratio of two runs taken minutes apart
    // measures the drift as much as the servers. The figures are the median round's.
    const baseline = await startServer({
      name: 'baseline',
      port: settings.baselinePort,
      args: [...process.execArgv, 'bench/baseline-server.ts'],
      env: { BASELINE_PORT: String(settings.baselinePort), BENCH_TENANT_ID: dataset.tenantId },
      readyPath: '/health',
    });
    const rounds: { baseline: Measurement; api: Measurement; ratio: number }[] = [];
    let recordedEvents = 0;
    let recordedCommits = 0;
    let measuredS = 0;
    try {
      api = await startApi(settings.apiPort, 'api-measure');
      try {
        const lagBefore = await consumerLag(settings.config, kafka).catch(() => new Map<string, number>());
        for (let round = 1; round <= settings.rounds; round++) {
          const baselineRun = await measure(`baseline (round ${round})`, baseline, settings, {
            ...loadEnv,
            BENCH_MODE: 'random',
          });
          const apiRun = await measure(`api (round ${round})`, api, settings, {
            ...loadEnv,
            BENCH_MODE: 'random',
            BENCH_TOKEN: gatewayToken,
          });
          const ratio = apiRun.saturated.rps / baselineRun.saturated.rps;
          report.figure(`verify.round${round}.baseline_rps`, baselineRun.saturated.rps);
          report.figure(`verify.round${round}.api_rps`, apiRun.saturated.rps);
          report.figure(`verify.round${round}.api_vs_baseline_ratio`, ratio, 2);
          rounds.push({ baseline: baselineRun, api: apiRun, ratio });
          // How the API records attempts (R9): sign-in events per committed transaction (group commit).
          const {
            rows: [recorded],
          } = await pool.query<{ events: string; commits: string }>(
            `SELECT count(*) AS events, count(DISTINCT transaction_id) AS commits FROM events
             WHERE tenant_id = $1 AND type IN ('LegacySignInSucceeded', 'LegacySignInFailed')
               AND recorded_at BETWEEN to_timestamp($2 / 1000.0) AND to_timestamp($3 / 1000.0)`,
            [dataset.tenantId, apiRun.window.from, apiRun.window.to],
          );
          recordedEvents += Number(recorded.events);
          recordedCommits += Number(recorded.commits);
          measuredS += (apiRun.window.to - apiRun.window.from) / 1000;
          report.figure(`verify.round${round}.api_outbox_backlog_at_end`, await outboxBacklog(pool));
          if (round === settings.rounds) {
            const lagAfter = await consumerLag(settings.config, kafka).catch(() => new Map<string, number>());
            for (const [group, lag] of lagAfter) {
              report.figure(`verify.api.consumer_lag_at_end.${group}`, lag);
              report.figure(`verify.api.consumer_lag_growth.${group}`, lag - (lagBefore.get(group) ?? 0));
            }
          }
          // What the API left behind (unpublished events, consumer lag) must not burden the next round.
          const drain = await waitForDrain(pool, kafka, settings.config, 120, `after API round ${round}`);
          report.figure(`verify.round${round}.api_outbox_drain_s`, drain.outboxSeconds, 1);
          if (drain.lag.size > 0)
            report.figure(`verify.round${round}.api_consumers_catch_up_s`, drain.consumersSeconds, 1);
        }
      } finally {
        await api.stop();
      }
    } finally {
      await baseline.stop();
    }

    report.figure('verify.api.sign_in_events_per_s', recordedEvents / measuredS);
    report.figure('verify.api.sign_in_commits_per_s', recordedCommits / measuredS);
    report.figure('verify.api.sign_in_events_per_commit', recordedEvents / recordedCommits, 1);
    const byRatio = [...rounds].sort((x, y) => x.ratio - y.ratio);
    const median = byRatio[Math.floor((byRatio.length - 1) / 2)];
    report.figure('verify.rounds', rounds.length);
    reportRun(report, 'verify.baseline', median.baseline);
    reportRun(report, 'verify.api', median.api);
    const ratio = median.ratio;
    report.figure('verify.api_vs_baseline_ratio', ratio, 2);
    report.figure('verify.api_vs_baseline_ratio_min', byRatio[0].ratio, 2);
    report.figure('verify.api_vs_baseline_ratio_max', byRatio[byRatio.length - 1].ratio, 2);
    const apiRun = median.api;
    report.bar('verify.bar.api_throughput_ge_3000_rps', apiRun.saturated.rps >= BARS.throughputRps);
    // The latency bar holds at the bar's rate: the paced run must have reached it (within 3 %).
    report.bar(
      'verify.bar.api_p99_le_20_ms_at_3000_rps',
      apiRun.paced.rps >= 0.97 * BARS.throughputRps && apiRun.paced.latencyMs.p99 <= BARS.p99Ms,
    );
    report.bar('verify.bar.api_vs_baseline_ge_0.5', ratio >= BARS.ratio);
    report.bar(
      'verify.bar.api_responses_allowed_no_errors',
      rounds.every((r) => allowedAndClean(r.api)),
    );
    report.bar(
      'verify.bar.baseline_responses_allowed_no_errors',
      rounds.every((r) => allowedAndClean(r.baseline)),
    );
    return report.exitCode;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
