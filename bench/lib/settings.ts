import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { parseConfig, type ParsedConfig } from '@latchkey/config';

/** The repository's root: benches run from it, and relative paths in the configuration start there. */
export const ROOT = resolve(__dirname, '..', '..');
/** Git-ignored: credentials, tokens and logs the benches write. */
export const RESULTS = join(ROOT, 'bench', 'results');

const integer = (name: string, fallback: number, min = 1): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}`);
  return value;
};

export interface BenchSettings {
  config: ParsedConfig;
  /** Where the bench starts the real API, and the bare baseline server. */
  apiPort: number;
  baselinePort: number;
  /** Load: wrk threads and connections, seconds measured, seconds of warm-up before (not counted). */
  threads: number;
  connections: number;
  durationS: number;
  warmupS: number;
  /** The verification data set. */
  users: number;
  passwordsPerUser: number;
  /** Creation bench: fresh users per run, the paced rate, and each phase's length. */
  createUsers: number;
  createRate: number;
  createDurationS: number;
  /** How long to wait for a quiet machine before each measurement (it may be shared). */
  quietWaitS: number;
  /** Verification: baseline and API measured in turn this many times; the ratio is their median. */
  rounds: number;
}

export function loadSettings(): BenchSettings {
  const config = parseConfig(process.env);
  // A bench seeds hundreds of thousands of rows and appends events at full speed: never into the
  // development or test database by mistake.
  if (!/bench/.test(config.postgres.database) && process.env.BENCH_ALLOW_ANY_DB !== '1') {
    throw new Error(
      `POSTGRES_DB is ${config.postgres.database}: benches use their own database (POSTGRES_DB=latchkey_bench)`,
    );
  }
  mkdirSync(RESULTS, { recursive: true });
  return {
    config,
    apiPort: integer('BENCH_API_PORT', 3400),
    baselinePort: integer('BENCH_BASELINE_PORT', 3401),
    threads: integer('BENCH_THREADS', 1),
    connections: integer('BENCH_CONNECTIONS', 32),
    durationS: integer('BENCH_DURATION_S', 20),
    warmupS: integer('BENCH_WARMUP_S', 5, 0),
    users: integer('BENCH_USERS', 100_000),
    passwordsPerUser: integer('BENCH_PASSWORDS_PER_USER', 4),
    createUsers: integer('BENCH_CREATE_USERS', 10_000),
    createRate: integer('BENCH_CREATE_RATE', 500),
    createDurationS: integer('BENCH_CREATE_DURATION_S', 15),
    quietWaitS: integer('BENCH_QUIET_WAIT_S', 120, 0),
    rounds: integer('BENCH_ROUNDS', 3),
  };
}

export function createPool(config: ParsedConfig, max = 4): Pool {
  const { host, port, user, password, database } = config.postgres;
  const pool = new Pool({ host, port, user, password, database, max, application_name: 'latchkey-bench' });
  pool.on('error', (error) => log(`postgres pool: ${error.message}`));
  return pool;
}

/** Progress goes to stderr; stdout carries only figures, one per line. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
