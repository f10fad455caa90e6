import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { log, RESULTS, ROOT } from './settings';

/** A server the bench started, and only that: stopped by its own pid at the end. */
export interface Server {
  name: string;
  port: number;
  logFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

// Whatever happens to the bench, it leaves none of its own processes behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the processes this bench started`);
    for (const child of running) child.kill('SIGTERM');
    setTimeout(() => process.exit(130), 2_000).unref();
  });
}

export function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Starts `node <script>` with extra environment, waits until GET `readyPath` answers 200. */
export async function startServer(options: {
  name: string;
  port: number;
  args: string[];
  env: Record<string, string>;
  readyPath: string;
  readyTimeoutMs?: number;
}): Promise<Server> {
  const logFile = join(RESULTS, `${options.name}.log`);
  const fd = openSync(logFile, 'w');
  const child = track(
    spawn(process.execPath, options.args, {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
    }),
  );
  closeSync(fd);
  let stopping = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      // A shared machine: someone else's test or script may stop our server. Say so at once.
      if (!stopping)
        log(`${options.name} (pid ${child.pid}) exited unexpectedly: ${signal ?? `code ${code}`}`);
      resolve(code);
    }),
  );
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let status = 0;
  while (Date.now() < deadline) {
    const done = await Promise.race([exited.then(() => true), sleep(250).then(() => false)]);
    if (done) throw new Error(`${options.name} exited while starting:\n${tail(logFile)}`);
    status = await httpStatus(options.port, options.readyPath).catch(() => 0);
    if (status === 200) break;
  }
  if (status !== 200) {
    stopping = true;
    child.kill('SIGKILL');
    throw new Error(
      `${options.name} not ready on :${options.port} (last status ${status}):\n${tail(logFile)}`,
    );
  }
  log(`${options.name} ready on 127.0.0.1:${options.port} (pid ${child.pid}, log ${logFile})`);
  return {
    name: options.name,
    port: options.port,
    logFile,
    child,
    stop: async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!stopped) {
        log(`${options.name} ignored SIGTERM for 20 s: SIGKILL`);
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/** One JSON request over loopback, for setup and spot checks (the load itself is wrk's). */
export function httpJson(
  port: number,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        timeout: 10_000,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end(payload);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * The real API from `npm run build`, configured by the environment (bench database and topic). With
 * EVENT_RELAY_IN=sync-worker (the benches' default, as `npm start` runs it) a sync worker runs beside
 * it and relays the outbox and feeds the Kafka read models; its CPU counts as `other`.
 */
export async function startApi(port: number, name: string): Promise<Server> {
  const worker =
    process.env.EVENT_RELAY_IN === 'sync-worker'
      ? await startServer({
          name: `${name}-worker`,
          port: Number(process.env.BENCH_WORKER_PORT ?? 3404),
          // BENCH_WORKER_MAIN: the worker of that other build, when the two builds split work between
          // API and worker differently (an A/B of where a projection runs needs both halves).
          args: [
            ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
            process.env.BENCH_WORKER_MAIN ?? 'dist/apps/sync-worker/src/main.js',
          ],
          env: {
            WORKER_HEALTH_PORT: process.env.BENCH_WORKER_PORT ?? '3404',
            NODE_ENV: 'production',
            // No directory pass during a bench: the worker is here for the relay and the read models.
            SYNC_POLL_INTERVAL_MS: '3600000',
          },
          readyPath: '/health',
        })
      : undefined;
  const api = await startServer({
    name,
    port,
    // BENCH_API_NODE_ARGS: extra node flags for the API, e.g. a CPU profile of the measured process:
    // BENCH_API_NODE_ARGS='--cpu-prof --cpu-prof-dir=bench/results/profiles'
    // BENCH_API_MAIN: another build of the API to measure (an A/B copy); default the repository's dist/.
    args: [
      ...(process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean),
      process.env.BENCH_API_MAIN ?? 'dist/apps/api/src/main.js',
    ],
    // Production mode, as deployed; it still trusts the development public key (JWT_PUBLIC_KEY_FILE).
    env: { API_PORT: String(port), NODE_ENV: 'production' },
    readyPath: '/health',
  }).catch(async (error: unknown) => {
    await worker?.stop();
    throw error;
  });
  return worker ? { ...api, stop: () => api.stop().finally(() => worker.stop()) } : api;
}
