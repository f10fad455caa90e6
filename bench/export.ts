// bench/export: the auditors' NDJSON export of 1,000,000 events, through the API's export route and
// through the CLI (`latchkey audit export`), with the exporting process's peak RSS (VmHWM) read at
// 100k, 300k and 1M events: flat as the count grows, since both read in keyset batches with
// backpressure. One line per figure on stdout; progress on stderr. See bench/README.md.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { startApi, track } from './lib/processes';
import { Report } from './lib/report';
import { createPool, loadSettings, log, ROOT } from './lib/settings';
import { mintToken } from './lib/tokens';

const TOTAL = Number(process.env.BENCH_EXPORT_EVENTS ?? 3_000_000);
const MARKS = [100_000, 300_000, 1_000_000, 3_000_000].filter((mark) => mark <= TOTAL);
/**
 * "Flat as the count grows" is judged after the exporter's warm-up (its heap filling to the cap,
 * its JIT, its pool): from this mark to the last. The growth from the first mark is printed too.
 */
const FLAT_FROM = MARKS.includes(1_000_000) && TOTAL >= 3_000_000 ? 1_000_000 : MARKS[0];
// A tenant of its own, fixed so the seed is made once per database.
const TENANT = process.env.BENCH_EXPORT_TENANT ?? 'e0e0e0e0-0000-4000-8000-00000000e4b0';
const SEED_BATCH = 50_000;
const PORT = Number(process.env.BENCH_EXPORT_API_PORT ?? 3402);
/**
 * The exporting processes (the API and the CLI) run with V8's old space capped: left alone, V8 grows
 * its heap lazily under a stream of short-lived batches (peak RSS rose +84 MB from 100k to 1M events
 * while what was live stayed one batch), which hides whether anything is retained. Under the cap a
 * process that kept what it exported would die out of memory long before 1,000,000 events.
 */
const HEAP_CAP_MB = Number(process.env.BENCH_EXPORT_HEAP_MB ?? 96);
const HEAP_CAP = `--max-old-space-size=${HEAP_CAP_MB}`;

/**
 * Seeds up to TOTAL events for the bench tenant, as the hot paths write them: 90 % sign-in attempts
 * (one stream per 10,000, as the recorder's lanes) and 10 % AppPasswordCreated with a verifier on user
 * streams of 5 events, so the export's redaction runs on real shapes. Bulk INSERT … SELECT from
 * generate_series, SEED_BATCH rows per statement; no outbox rows (as if already published).
 */
async function seed(pool: Pool): Promise<void> {
  const [{ count }] = (
    await pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM events WHERE tenant_id = $1`, [
      TENANT,
    ])
  ).rows;
  if (count >= TOTAL) return log(`seed: ${count} events already there for tenant ${TENANT}`);
  const started = Date.now();
  for (let done = count; done < TOTAL; done += SEED_BATCH) {
    const n = Math.min(SEED_BATCH, TOTAL - done);
    const signIns = Math.floor(n * 0.9);
    const creations = n - signIns;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Sign-in attempts: streams sign-ins-<tenant>-b<k>, 10,000 events each.
      await client.query(
        `WITH s AS (
           INSERT INTO streams (id, type, tenant_id, version)
           SELECT 'sign-ins-' || $1 || '-b' || ($2::bigint + g) / 10000, 'sign-ins', $1::uuid, 0
           FROM generate_series(0, $3 - 1) g GROUP BY 1 ON CONFLICT (id) DO NOTHING)
         INSERT INTO events (id, stream_id, version, type, tenant_id, actor, data, occurred_at)
         SELECT gen_random_uuid(), 'sign-ins-' || $1 || '-b' || (($2::bigint + g) / 10000),
                (($2::bigint + g) % 10000) + 1, 'LegacySignInSucceeded', $1::uuid, '{"kind":"gateway"}',
                jsonb_build_object('username', 'user' || (g % 1000) || '@bench.test',
                  'userId', md5((g % 1000)::text)::uuid, 'appPasswordId', gen_random_uuid(),
                  'protocol', 'IMAP', 'action', 'sign-in', 'clientIp', '10.0.' || (g % 250) || '.1',
                  'allowed', true, 'reason', null, 'rule', null,
                  'attemptedAt', to_char(timestamptz '2025-01-01' + (($2::bigint + g) * interval '1 ms'),
                    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                timestamptz '2025-01-01' + (($2::bigint + g) * interval '1 ms')
         FROM generate_series(0, $3 - 1) g`,
        [TENANT, done, signIns],
      );
      // App passwords: user streams of 5 AppPasswordCreated each.
      await client.query(
        `WITH s AS (
           INSERT INTO streams (id, type, tenant_id, version)
           SELECT 'user-' || md5($1 || ':' || ($2::bigint + g) / 5)::uuid, 'user', $1::uuid, 5
           FROM generate_series(0, $3 - 1) g GROUP BY 1 ON CONFLICT (id) DO NOTHING)
         INSERT INTO events (id, stream_id, version, type, tenant_id, actor, data, occurred_at)
         SELECT gen_random_uuid(), 'user-' || md5($1 || ':' || ($2::bigint + g) / 5)::uuid,
                (($2::bigint + g) % 5) + 1, 'AppPasswordCreated', $1::uuid, '{"kind":"user"}',
                jsonb_build_object('userId', md5($1 || ':' || ($2::bigint + g) / 5)::uuid,
                  'appPasswordId', gen_random_uuid(), 'name', 'device ' || g, 'protocols', null,
                  'createdAt', '2025-01-01T00:00:00.000Z', 'expiresAt', null,
                  'verifier', jsonb_build_object('algorithm', 'hmac-sha256', 'keyId', 'bench',
                    'hash', encode(sha256(g::text::bytea), 'base64'))),
                timestamptz '2025-01-01' + (($2::bigint + g) * interval '1 ms')
         FROM generate_series(0, $3 - 1) g`,
        [TENANT, done, creations],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    log(`seed: ${done + n}/${TOTAL} events (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  await pool.query('VACUUM (ANALYZE) events');
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

interface Run {
  lines: number;
  seconds: number;
  verifierMentions: number;
  errorLines: number;
  atMarks: { mark: number; seconds: number; peakRssMb: number }[];
}

/** Counts NDJSON lines as they arrive, noting time and the exporter's peak RSS at each mark. */
function consume(stream: Readable, exporterPid: number): Promise<Run> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  const run: Run = { lines: 0, seconds: 0, verifierMentions: 0, errorLines: 0, atMarks: [] };
  let next = 0;
  let tail = '';
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) run.lines += 1;
      if (text.includes('"verifier"')) run.verifierMentions += 1;
      if (text.includes('{"error":')) run.errorLines += 1;
      tail = text.slice(text.lastIndexOf('\n') + 1).slice(-32);
      while (next < MARKS.length && run.lines >= MARKS[next]) {
        run.atMarks.push({ mark: MARKS[next], seconds: elapsed(), peakRssMb: peakRssMb(exporterPid) });
        next += 1;
      }
    });
    stream.once('error', reject);
    stream.once('end', () => {
      run.seconds = elapsed();
      resolve(run);
    });
  });
}

function report(r: Report, name: string, run: Run, before: number): void {
  r.figure(`export.${name}.events`, run.lines);
  r.figure(`export.${name}.events_per_s`, run.lines / run.seconds);
  r.figure(`export.${name}.peak_rss_before_mb`, before, 1);
  for (const { mark, seconds, peakRssMb } of run.atMarks) {
    r.figure(`export.${name}.events_per_s_at_${mark / 1000}k`, mark / seconds);
    r.figure(`export.${name}.peak_rss_at_${mark / 1000}k_mb`, peakRssMb, 1);
  }
  const first = run.atMarks[0]?.peakRssMb ?? NaN;
  const warm = run.atMarks.find((m) => m.mark === FLAT_FROM)?.peakRssMb ?? NaN;
  const last = run.atMarks[run.atMarks.length - 1]?.peakRssMb ?? NaN;
  r.figure(`export.${name}.peak_rss_growth_first_to_last_mark_mb`, last - first, 1);
  r.figure(`export.${name}.peak_rss_growth_from_${FLAT_FROM / 1000}k_to_last_mark_mb`, last - warm, 1);
  r.figure(`export.${name}.verifier_mentions`, run.verifierMentions);
  r.bar(`export.${name}.bar.all_${TOTAL}_events_exported`, run.lines >= TOTAL && run.errorLines === 0);
  r.bar(`export.${name}.bar.peak_rss_flat_from_${FLAT_FROM / 1000}k_within_32_mb`, last - warm <= 32);
  r.bar(`export.${name}.bar.no_verifier`, run.verifierMentions === 0);
}

async function main(): Promise<number> {
  const settings = loadSettings();
  const pool = createPool(settings.config);
  const r = new Report();
  try {
    await seed(pool);
    const token = await mintToken(settings.config, {
      tenantId: TENANT,
      subject: 'bench-auditor',
      roles: ['auditor'],
    });

    process.env.BENCH_API_NODE_ARGS = `${process.env.BENCH_API_NODE_ARGS ?? ''} ${HEAP_CAP}`;
    r.figure('export.heap_cap_mb', HEAP_CAP_MB);
    const api = await startApi(PORT, 'export-api');
    try {
      const pid = api.child.pid!;
      const before = peakRssMb(pid);
      log('export through GET /v1/audit/events/export');
      const run = await new Promise<Run>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: PORT,
            path: '/v1/audit/events/export',
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            if (res.statusCode !== 200) reject(new Error(`export answered ${res.statusCode}`));
            else consume(res, pid).then(resolve, reject);
          },
        );
        req.once('error', reject);
        req.end();
      });
      report(r, 'api', run, before);
    } finally {
      await api.stop();
    }

    log('export through latchkey audit export --out - (progress on stderr)');
    const cli = track(
      spawn(
        process.execPath,
        [HEAP_CAP, 'dist/apps/cli/src/main.js', 'audit', 'export', '--tenant', TENANT, '--out', '-'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const cliRun = await consume(cli.stdout!, cli.pid!);
    const code = await exited;
    if (code !== 0) throw new Error(`the CLI exited with ${code}`);
    report(r, 'cli', cliRun, NaN);
  } finally {
    await pool.end();
  }
  return r.exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`export bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
