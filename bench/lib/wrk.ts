import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { log, ROOT } from './settings';
import { track } from './processes';

export interface WrkResult {
  requests: number;
  durationS: number;
  /** Completed requests per second over the run. */
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** The script's own counters (responses checked, allowed, created, …). */
  counters: Record<string, number>;
}

/**
 * Runs wrk (C, keep-alive, Lua-scripted requests) against loopback and returns the `BENCH key=value`
 * line that the scripts under bench/wrk print from done(). Bounded: wrk stops itself after the
 * duration; a wrk that does not is killed 30 s later.
 */
export async function runWrk(options: {
  label: string;
  url: string;
  script: string;
  env: Record<string, string>;
  threads: number;
  connections: number;
  durationS: number;
}): Promise<WrkResult> {
  const args = [
    '-t',
    String(options.threads),
    '-c',
    String(options.connections),
    '-d',
    `${options.durationS}s`,
    '--timeout',
    '5s',
    '-s',
    join(ROOT, 'bench', 'wrk', options.script),
    options.url,
  ];
  log(`${options.label}: wrk ${args.join(' ')}`);
  const child = track(
    spawn('wrk', args, {
      cwd: ROOT,
      env: { ...process.env, BENCH_WRK_DIR: join(ROOT, 'bench', 'wrk'), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    // A script that has sent all it meant to (sequential mode) asks to end early: SIGINT makes wrk
    // stop waiting out -d and print its results, done() included.
    if (!interrupted && stdout.includes('BENCH_LIMIT_REACHED')) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (options.durationS + 30) * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(killer);
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk (${options.label}) failed with ${code}:\n${stdout}\n${stderr}`);
  }
  const values: Record<string, number> = {};
  for (const pair of line.slice('BENCH '.length).trim().split(/\s+/)) {
    const [key, value] = pair.split('=');
    values[key] = Number(value);
  }
  const take = (key: string): number => {
    const value = values[key];
    delete values[key];
    return value;
  };
  const durationS = take('duration_us') / 1e6;
  const requests = take('requests');
  const ms = (key: string) => take(key) / 1000;
  return {
    requests,
    durationS,
    rps: requests / durationS,
    latencyMs: {
      mean: ms('mean_us'),
      p50: ms('p50_us'),
      p90: ms('p90_us'),
      p99: ms('p99_us'),
      p999: ms('p999_us'),
      max: ms('max_us'),
    },
    errors: {
      connect: take('err_connect'),
      read: take('err_read'),
      write: take('err_write'),
      status: take('err_status'),
      timeout: take('err_timeout'),
    },
    counters: values,
  };
}
