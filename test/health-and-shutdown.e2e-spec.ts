import { startApp, waitForHttp, type RunningApp } from './app-process';

// Ports apart from a developer's running service (API_PORT / WORKER_HEALTH_PORT in .env).
const cases = [
  {
    app: 'api',
    env: { API_PORT: '3190' },
    url: 'http://127.0.0.1:3190/health',
    deps: ['postgres', 'redis', 'kafka'],
  },
  {
    app: 'sync-worker',
    env: { WORKER_HEALTH_PORT: '3191' },
    url: 'http://127.0.0.1:3191/health',
    deps: ['postgres', 'redis', 'kafka', 'directory'],
  },
] as const;

describe.each(cases)('$app process', ({ app, env, url, deps }) => {
  let running: RunningApp;

  beforeAll(() => {
    running = startApp(app, env);
  });
  afterAll(() => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
  });

  it(`serves /health with ${deps.join(', ')} reported up`, async () => {
    const response = await waitForHttp(url);
    const body = (await response.json()) as { status: string; details: Record<string, { status: string }> };
    expect({ code: response.status, ...body }).toMatchObject({
      code: 200,
      status: 'ok',
      details: Object.fromEntries(deps.map((dep) => [dep, { status: 'up' }])),
    });
    // Events set aside as too large for Kafka: a count monitoring can alert on.
    expect(body.details.postgres).toMatchObject({ unpublishableEvents: expect.any(Number) });
  });

  it('drains and exits with code 0 on SIGTERM', async () => {
    running.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      running.exited,
      new Promise(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error('still running 10 s after SIGTERM')), 10_000)),
      ),
    ]).finally(() => clearTimeout(timer));
    expect(code).toBe(0);
  }, 15_000);
});

describe('start-up with a bad configuration value', () => {
  it('stops the process with a message that names the variable, not its value', async () => {
    const running = startApp('api', { API_PORT: '3192', REDIS_PORT: 'not-a-port', POSTGRES_PASSWORD: '' });
    const code = await running.exited;
    expect(code).toBe(1);
    expect(running.output()).toMatch(/REDIS_PORT is invalid/);
    expect(running.output()).toMatch(/POSTGRES_PASSWORD is invalid/);
    expect(running.output()).not.toContain('not-a-port');
  });
});
