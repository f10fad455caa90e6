// B12's rate limit as a deployment sees it: several API instances behind a load balancer share one
// limit per client (the counts live in Redis), and behind a proxy named by TRUST_PROXY the client is
// the address the proxy forwards for, both for the limit and for the record of who reported.
import { randomUUID } from 'node:crypto';
import { dataSourceOptions } from '@latchkey/persistence';
import { DataSource } from 'typeorm';
import { ApiClient, expectProblem, startApi } from './api-client';
import { integrationConfig } from './integration-config';

const LIMIT = 10; // stated here, not imported: the test checks the documented figure
const shared = { REDIS_PREFIX: `latchkey-e2e-limits-${randomUUID().slice(0, 8)}` };

const stops: (() => void)[] = [];
let first: ApiClient;
let second: ApiClient;
let direct: ApiClient;
let db: DataSource;

const report = (api: ApiClient, forwardedFor: string | undefined, text: string) =>
  api.send({
    method: 'POST',
    path: '/v1/leak-reports',
    json: { text },
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  });

describe('B12: the leak-report limit behind a load balancer', () => {
  beforeAll(async () => {
    // Two instances behind one proxy on loopback, and one that trusts no proxy.
    const behindProxy = { ...shared, TRUST_PROXY: 'loopback' };
    const starts = await Promise.allSettled([
      startApi(3180, behindProxy),
      startApi(3181, behindProxy),
      startApi(3182, { TRUST_PROXY: 'false' }),
    ]);
    // Those that started are stopped afterwards even when another did not start.
    for (const start of starts) if (start.status === 'fulfilled') stops.push(start.value.stop);
    const [a, b, c] = starts.map((start) => {
      if (start.status === 'rejected') throw start.reason;
      return start.value;
    });
    [first, second, direct] = [a.api, b.api, c.api];
    db = await new DataSource({
      ...dataSourceOptions(integrationConfig()),
      extra: { max: 1 },
    }).initialize();
  }, 90_000);

  afterAll(async () => {
    await db?.destroy();
    stops.forEach((stop) => stop());
  });

  it('B12: the API description states the limit and its 429', async () => {
    const document = (await first.get('/docs/openapi.json')).body;
    const refusal = document.paths['/v1/leak-reports'].post.responses['429'];
    expect(refusal.description).toContain(`${LIMIT} reports`);
    expect(refusal.headers).toHaveProperty('Retry-After');
    expect(refusal.content).toHaveProperty('application/problem+json');
  });

  it('B12: one client gets 10 reports a minute across two API instances, not 10 from each', async () => {
    const client = '198.51.100.10';
    for (let i = 1; i <= LIMIT; i++) {
      const response = await report(i % 2 ? first : second, client, `report ${i}: nothing here`);
      expect({ i, status: response.status }).toEqual({ i, status: 202 });
    }
    for (const api of [first, second]) {
      const refused = await report(api, client, 'one too many');
      expectProblem(refused, 429, 'rate-limited');
      // What is left of the one-minute block, as the shared counts say, not a fixed guess of 5.
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(50);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
  });

  it('B12: behind a trusted proxy each forwarded client has its own limit and is recorded as the reporter', async () => {
    const spent = '198.51.100.20';
    for (let i = 1; i <= LIMIT; i++) expect((await report(first, spent, `spent ${i}`)).status).toBe(202);
    expectProblem(await report(first, spent, 'one too many'), 429, 'rate-limited');

    // Another reporter behind the same proxy is not held back by the first; the proxy may append
    // itself and more hops, the client is the leftmost untrusted address.
    const other = '203.0.113.7';
    const accepted = await report(second, `${other}, 127.0.0.1`, 'nothing here either');
    expect(accepted.status).toBe(202);
    const [recorded] = await db.query(
      `SELECT data ->> 'reporterIp' AS reporter_ip, actor ->> 'id' AS actor_id FROM events
       WHERE stream_id = $1 AND type = 'LeakReported'`,
      [`leak-report-${accepted.body.reportId}`],
    );
    expect(recorded).toEqual({ reporter_ip: other, actor_id: other });
  });

  it('B12: an instance that trusts no proxy ignores X-Forwarded-For, so an invented address buys no reports', async () => {
    const reportIds: string[] = [];
    for (let i = 1; i <= LIMIT; i++) {
      const response = await report(direct, `192.0.2.${i}`, `invented ${i}`);
      expect({ i, status: response.status }).toEqual({ i, status: 202 });
      reportIds.push(response.body.reportId);
    }
    expectProblem(await report(direct, '192.0.2.99', 'one too many'), 429, 'rate-limited');
    const recorded: { reporter_ip: string }[] = await db.query(
      `SELECT DISTINCT data ->> 'reporterIp' AS reporter_ip FROM events
       WHERE stream_id = ANY($1::text[]) AND type = 'LeakReported'`,
      [reportIds.map((id) => `leak-report-${id}`)],
    );
    expect(recorded.map((row) => row.reporter_ip)).toEqual([
      expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/),
    ]);
  });
});
