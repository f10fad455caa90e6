/**
 * bench/create: app-password creations per second through the real API (POST /v1/me/app-passwords),
 * durable in PostgreSQL, and the outbox-to-Kafka lag of the events they append, measured by a Kafka
 * consumer in this process. Run through bench/create.sh. Prints one line per figure on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { userStreamId, type TenantPolicy } from '../libs/app-passwords/src/domain';
import { AppPasswordHasher } from '../libs/app-passwords/src/infrastructure/app-password-hasher';
import { cpuBetween, cpuSnapshot, waitForQuiet } from './lib/cpu';
import { outboxBacklog, vacuum, waitForDrain } from './lib/drain';
import { benchKafka, LagProbe, type LagSample } from './lib/kafka';
import { sleep, startApi, type Server } from './lib/processes';
import { percentile, Report } from './lib/report';
import { clientIpOf, newRows, tenantRows, userRows, writeRows } from './lib/seed';
import { createPool, loadSettings, log, RESULTS, type BenchSettings } from './lib/settings';
import { mintToken } from './lib/tokens';
import { runWrk, type WrkResult } from './lib/wrk';

const BARS = { creationsPerS: 500, lagP99Ms: 1_000 };
const CREATE_TENANT = 'b3e7c000-0000-4000-8000-000000000001';

interface RunUsers {
  runId: string;
  userIds: string[];
  streams: Set<string>;
  tokensFile: string;
}

/**
 * Fresh users for this run (cloud-only, MFA on and registered, no app passwords yet), bulk-seeded like
 * the verification data set, in the creation tenant (created once, allowing app passwords). Fresh
 * users keep every run alike: short streams, far from the per-user limit of 40.
 */
async function seedRunUsers(pool: Pool, settings: BenchSettings): Promise<RunUsers> {
  const runId = Date.now().toString(36);
  const hasher = new AppPasswordHasher(settings.config.appPasswords.pepper);
  const started = Date.now();
  const client = await pool.connect();
  const userIds: string[] = [];
  try {
    await client.query('BEGIN');
    let rows = newRows();
    const { rows: found } = await client.query<{ policy: TenantPolicy }>(
      `SELECT policy FROM tenants WHERE tenant_id = $1`,
      [CREATE_TENANT],
    );
    const policy =
      found[0]?.policy ?? tenantRows(rows, CREATE_TENANT, 'bench create', { appPasswordsAllowed: true });
    for (let i = 0; i < settings.createUsers; i++) {
      const user = userRows(rows, hasher, {
        tenantId: CREATE_TENANT,
        tenantPolicy: policy,
        username: `r${runId}-${i}@create.bench.latchkey.test`,
        clientIp: clientIpOf(i),
        appPasswords: 0,
      });
      userIds.push(user.userId);
      if (rows.size >= 30_000 || i === settings.createUsers - 1) {
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
  await pool.query(`ANALYZE accounts, streams, events, outbox`);
  log(`seeded ${userIds.length} users for run ${runId} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const tokens: string[] = [];
  for (const userId of userIds) {
    tokens.push(
      await mintToken(settings.config, {
        tenantId: CREATE_TENANT,
        subject: userId,
        roles: ['user'],
        mfa: true,
      }),
    );
  }
  const tokensFile = join(RESULTS, 'create-tokens.txt');
  writeFileSync(tokensFile, `${tokens.join('\n')}\n`, { mode: 0o600 });
  return { runId, userIds, streams: new Set(userIds.map(userStreamId)), tokensFile };
}

interface Phase {
  label: string;
  result: WrkResult;
  /** The ids of the app passwords whose creation was acknowledged (201). */
  ids: string[];
  startedAt: number;
  endedAt: number;
  cpu: { server: number; postgres: number; other: number };
  backgroundBusyPct: number;
}

async function runPhase(
  label: string,
  api: Server,
  settings: BenchSettings,
  users: RunUsers,
  rate: number | undefined,
): Promise<Phase> {
  const pid = api.child.pid ?? 0;
  const background = await waitForQuiet(settings.quietWaitS);
  if (background > 0.15)
    log(`WARNING: the machine was ${(background * 100).toFixed(0)} % busy before ${label}`);
  const before = cpuSnapshot([pid]);
  const idsFile = join(RESULTS, `create-ids-${label}`);
  const startedAt = Date.now();
  const result = await runWrk({
    label,
    url: `http://127.0.0.1:${api.port}`,
    script: 'create.lua',
    threads: settings.threads,
    connections: rate === undefined ? settings.connections : Math.max(64, 2 * settings.connections),
    durationS: settings.createDurationS,
    env: {
      BENCH_TOKENS: users.tokensFile,
      BENCH_LABEL: `${users.runId}-${label}`,
      BENCH_IDS_FILE: idsFile,
      ...(rate === undefined ? {} : { BENCH_RATE: String(rate), BENCH_THREADS: String(settings.threads) }),
    },
  });
  const endedAt = Date.now();
  const used = cpuBetween(before, cpuSnapshot([pid]));
  const server = used.processes.get(pid) ?? NaN;
  const cpu = {
    server,
    postgres: used.postgres,
    other: used.machineBusyShare * availableParallelism() - server - used.postgres,
  };
  log(
    `${label}: ${(result.counters.created / result.durationS).toFixed(0)} created/s, ` +
      `p99 ${result.latencyMs.p99.toFixed(1)} ms, refused ${result.counters.refused}; cores: server ` +
      `${cpu.server.toFixed(2)}, postgres ${cpu.postgres.toFixed(2)}, other ${cpu.other.toFixed(2)}`,
  );
  const ids: string[] = [];
  for (let thread = 0; thread < settings.threads; thread++) {
    ids.push(
      ...readFileSync(`${idsFile}-${thread}`, 'utf8')
        .split('\n')
        .filter((id) => id !== ''),
    );
  }
  return { label, result, ids, startedAt, endedAt, cpu, backgroundBusyPct: background * 100 };
}

const appPasswordIdOf = (sample: LagSample): string | undefined =>
  (sample.data as { appPasswordId?: string } | null)?.appPasswordId;

/** The acknowledged ids the probe has not (yet) seen on Kafka. */
function notConsumed(probe: LagProbe, ids: readonly string[]): string[] {
  const seen = new Set([...probe.samples.values()].map(appPasswordIdOf));
  return ids.filter((id) => !seen.has(id));
}

/** Waits (bounded) until the probe has consumed every acknowledged creation. */
async function waitForConsumed(probe: LagProbe, ids: readonly string[], boundS: number): Promise<void> {
  const deadline = Date.now() + boundS * 1000;
  while (notConsumed(probe, ids).length > 0 && Date.now() < deadline) await sleep(200);
}

function reportPhase(report: Report, prefix: string, phase: Phase, samples: LagSample[]): void {
  const r = phase.result;
  const lags = samples
    .filter((s) => s.recordedAt >= phase.startedAt - 1_000 && s.recordedAt <= phase.endedAt)
    .map((s) => s.consumedAt - s.recordedAt);
  report.figure(`${prefix}.background_busy_pct_before`, phase.backgroundBusyPct, 0);
  report.figure(`${prefix}.creations_per_s`, r.counters.created / r.durationS);
  report.figure(`${prefix}.p50_ms`, r.latencyMs.p50, 2);
  report.figure(`${prefix}.p99_ms`, r.latencyMs.p99, 2);
  report.figure(`${prefix}.acknowledged`, r.counters.created);
  report.figure(
    `${prefix}.refused_or_failed`,
    r.counters.refused + r.errors.connect + r.errors.read + r.errors.timeout,
  );
  report.figure(`${prefix}.kafka_lag_samples`, lags.length);
  report.figure(`${prefix}.kafka_lag_p50_ms`, percentile(lags, 50));
  report.figure(`${prefix}.kafka_lag_p99_ms`, percentile(lags, 99));
  report.figure(`${prefix}.kafka_lag_max_ms`, percentile(lags, 100));
  report.figure(`${prefix}.server_cpu_cores`, phase.cpu.server, 2);
  report.figure(`${prefix}.postgres_cpu_cores`, phase.cpu.postgres, 2);
  report.figure(`${prefix}.other_cpu_cores`, phase.cpu.other, 2);
}

const lagP99 = (phase: Phase, samples: LagSample[]): number =>
  percentile(
    samples
      .filter((s) => s.recordedAt >= phase.startedAt - 1_000 && s.recordedAt <= phase.endedAt)
      .map((s) => s.consumedAt - s.recordedAt),
    99,
  );

async function main(): Promise<number> {
  const settings = loadSettings();
  const report = new Report();
  const pool = createPool(settings.config);
  const kafka = benchKafka(settings.config);
  try {
    const users = await seedRunUsers(pool, settings);
    report.figure('create.run_users', users.userIds.length);

    const api = await startApi(settings.apiPort, 'api-create');
    const probe = new LagProbe(
      kafka,
      settings.config.kafka.eventsTopic,
      `${settings.config.kafka.clientId}-bench-lag-${users.runId}`,
      (h) => h.ce_type === 'latchkey.AppPasswordCreated.v1' && users.streams.has(h.ce_subject),
    );
    let saturated: Phase;
    let paced: Phase;
    try {
      // A backlog left by an earlier bench would be this run's lag: publish it first.
      const before = await waitForDrain(pool, kafka, settings.config, 180, 'before the load');
      report.figure('create.outbox_backlog_before_load', before.outboxLeft);
      if (before.outboxLeft > 0)
        log(`WARNING: ${before.outboxLeft} events still unpublished; see the API log`);
      await vacuum(pool);
      await probe.start();
      await sleep(1_000);

      saturated = await runPhase('saturated', api, settings, users, undefined);
      await waitForConsumed(probe, saturated.ids, 60);
      await waitForDrain(pool, kafka, settings.config, 60, 'after the saturated run');

      paced = await runPhase(`paced-${settings.createRate}`, api, settings, users, settings.createRate);
      await waitForConsumed(probe, [...saturated.ids, ...paced.ids], 60);
      report.figure('create.outbox_backlog_at_end', await outboxBacklog(pool));
    } finally {
      await probe.stop().catch(() => undefined);
      await api.stop();
    }

    const samples = [...probe.samples.values()];
    reportPhase(report, 'create.saturated', saturated, samples);
    reportPhase(report, `create.at_${settings.createRate}_rps`, paced, samples);
    report.figure(`create.at_${settings.createRate}_rps.achieved_rps`, paced.result.rps);

    // Exactly: each acknowledged app password (by id) is in PostgreSQL, and its event went to Kafka.
    const acknowledged = [...saturated.ids, ...paced.ids];
    const {
      rows: [durable],
    } = await pool.query<{ credentials: string; events: string }>(
      `SELECT (SELECT count(*) FROM credentials WHERE app_password_id = ANY($1::uuid[])) AS credentials,
              (SELECT count(*) FROM events WHERE type = 'AppPasswordCreated' AND stream_id = ANY($2::text[])
                 AND data ->> 'appPasswordId' = ANY($3::text[])) AS events`,
      [acknowledged, [...users.streams], acknowledged],
    );
    const missingOnKafka = notConsumed(probe, acknowledged).length;
    report.figure('create.acknowledged', acknowledged.length);
    report.figure('create.acknowledged_durable_credentials', Number(durable.credentials));
    report.figure('create.acknowledged_durable_events', Number(durable.events));
    report.figure('create.acknowledged_missing_on_kafka', missingOnKafka);
    writeFileSync(
      join(RESULTS, 'create-lag-samples.json'),
      JSON.stringify(
        samples.map((x) => ({ recordedAt: x.recordedAt, lagMs: x.consumedAt - x.recordedAt })),
        null,
        0,
      ),
    );

    report.bar(
      'create.bar.throughput_ge_500_per_s',
      saturated.result.counters.created / saturated.result.durationS >= BARS.creationsPerS,
    );
    report.bar(
      'create.bar.kafka_lag_p99_le_1000_ms_at_500_per_s',
      paced.result.counters.created / paced.result.durationS >= 0.97 * settings.createRate &&
        settings.createRate >= BARS.creationsPerS &&
        lagP99(paced, samples) <= BARS.lagP99Ms,
    );
    report.bar(
      'create.bar.every_acknowledged_creation_durable',
      acknowledged.length > 0 &&
        Number(durable.credentials) === acknowledged.length &&
        Number(durable.events) === acknowledged.length,
    );
    report.bar(
      'create.bar.every_acknowledged_creation_on_kafka',
      acknowledged.length > 0 && missingOnKafka === 0,
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
