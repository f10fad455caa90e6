import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
export const entryPoints = {
  api: join(root, 'dist/apps/api/src/main.js'),
  'sync-worker': join(root, 'dist/apps/sync-worker/src/main.js'),
} as const;

export interface RunningApp {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a built app (`npm run build`) as its own process, as an operator would. */
export function startApp(app: keyof typeof entryPoints, env: Record<string, string> = {}): RunningApp {
  const child = spawn(process.execPath, [entryPoints[app]], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Polls `url` until it answers (any status), or fails after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Starts a built app and waits until `healthUrl` answers; fails at once, with the app's output, if
 * it exits first.
 */
export async function startAppAndWait(
  app: keyof typeof entryPoints,
  env: Record<string, string>,
  healthUrl: string,
): Promise<RunningApp> {
  const running = startApp(app, env);
  await Promise.race([
    waitForHttp(healthUrl),
    running.exited.then((code) => {
      throw new Error(`${app} exited with ${code}:\n${running.output()}`);
    }),
  ]);
  return running;
}
