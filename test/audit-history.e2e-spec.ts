// Auditors read and export the history over HTTP (issue 5, "Read the history"): the auditor role only,
// the tenant from the token, filters and keyset pages, NDJSON export streamed, and no verifier ever.
import { randomUUID } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { ApiClient, expectProblem, startApi } from './api-client';
import { mintToken } from './tokens';

const PORT = 3198;
let api: ApiClient;
let stop: () => void;

interface Tenant {
  tenantId: string;
  admin: string;
  auditor: string;
  alice: { userId: string; token: string };
}
let a: Tenant;
let b: Tenant;

async function tenant(label: string): Promise<Tenant> {
  const tenantId = randomUUID();
  const admin = await mintToken({ tenantId, sub: 'admin', roles: ['tenant-admin'] });
  const auditor = await mintToken({ tenantId, sub: 'auditor', roles: ['auditor'] });
  expect(
    (await api.post('/v1/tenant', admin, { name: label, policy: { appPasswordsAllowed: true } })).status,
  ).toBe(201);
  const username = `alice@${tenantId.slice(0, 8)}.test`;
  const provisioned = await api.post('/v1/users', admin, { username, mfa: 'enforced' });
  expect(provisioned.status).toBe(201);
  const userId: string = provisioned.body.userId;
  const token = await mintToken({ tenantId, sub: userId, roles: ['user'], mfa: true });
  expect((await api.post('/v1/me/mfa-registration', token)).status).toBe(200);
  for (const name of ['phone', 'laptop', 'tablet'])
    expect((await api.post('/v1/me/app-passwords', token, { name })).status).toBe(201);
  return { tenantId, admin, auditor, alice: { userId, token } };
}

/** An export's raw body (ApiClient would parse `x-ndjson` as one JSON document), as lines. */
function exportText(path: string, token: string) {
  return new Promise<{
    response: { status: number; headers: IncomingHttpHeaders; text: string };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    lines: any[];
  }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: PORT, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const ndjson = /x-ndjson/.test(String(res.headers['content-type']));
          resolve({
            response: { status: res.statusCode ?? 0, headers: res.headers, text },
            lines: ndjson
              ? text
                  .split('\n')
                  .filter(Boolean)
                  .map((line) => JSON.parse(line))
              : [],
          });
        });
      },
    );
    req.once('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  ({ api, stop } = await startApi(PORT));
  a = await tenant('Contoso');
  b = await tenant('Fabrikam');
}, 120_000);
afterAll(() => stop?.());

describe('GET /v1/audit/events', () => {
  it("an auditor pages through the tenant's whole history exactly once, in order, without verifiers", async () => {
    const seen: { seq: string; type: string }[] = [];
    let cursor: string | null = null;
    do {
      const response = await api.get(
        `/v1/audit/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        a.auditor,
      );
      expect(response.status).toBe(200);
      expect(response.body.events.length).toBeLessThanOrEqual(2);
      seen.push(...response.body.events);
      cursor = response.body.next;
    } while (cursor);
    const seqs = seen.map((event) => BigInt(event.seq));
    expect(seqs).toEqual([...seqs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seen.map((event) => event.type)).toEqual(
      expect.arrayContaining([
        'TenantCreated',
        'UserProvisioned',
        'MfaRegistrationCompleted',
        'AppPasswordCreated',
      ]),
    );
    expect(seen.filter((event) => event.type === 'AppPasswordCreated')).toHaveLength(3);
    expect(JSON.stringify(seen)).not.toContain('verifier');
    const all = await api.get('/v1/audit/events?limit=1000', a.auditor);
    expect(all.body.events).toEqual(seen);
    expect(all.body.next).toBeNull();
  });

  it('filters: user, stream, types, time range', async () => {
    const byUser = await api.get(`/v1/audit/events?userId=${a.alice.userId}`, a.auditor);
    expect(byUser.body.events.map((e: { streamId: string }) => e.streamId)).toEqual(
      Array(5).fill(`user-${a.alice.userId}`),
    );
    const byStream = await api.get(`/v1/audit/events?streamId=tenant-${a.tenantId}`, a.auditor);
    expect(byStream.body.events.map((e: { type: string }) => e.type)).toEqual(['TenantCreated']);
    const byTypes = await api.get(
      '/v1/audit/events?type=TenantCreated&type=MfaRegistrationCompleted',
      a.auditor,
    );
    expect(byTypes.body.events.map((e: { type: string }) => e.type)).toEqual([
      'TenantCreated',
      'MfaRegistrationCompleted',
    ]);
    const commaTypes = await api.get(
      '/v1/audit/events?type=MfaRegistrationCompleted,TenantCreated',
      a.auditor,
    );
    expect(commaTypes.body.events).toEqual(byTypes.body.events);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await api.get(`/v1/audit/events?from=${future}`, a.auditor)).body).toEqual({
      events: [],
      next: null,
    });
    const past = await api.get(`/v1/audit/events?to=${encodeURIComponent(future)}&limit=1000`, a.auditor);
    expect(past.body.events).toHaveLength(6); // tenant, user, MFA registration, 3 app passwords
  });

  it("tenant isolation: tenant B's auditor sees none of A's events, even naming A's streams and user", async () => {
    const mine = await api.get('/v1/audit/events?limit=1000', b.auditor);
    expect(mine.body.events.some((e: { streamId: string }) => e.streamId.includes(a.tenantId))).toBe(false);
    expect(mine.body.events.some((e: { streamId: string }) => e.streamId.includes(a.alice.userId))).toBe(
      false,
    );
    for (const query of [
      `streamId=user-${a.alice.userId}`,
      `streamId=tenant-${a.tenantId}`,
      `userId=${a.alice.userId}`,
    ]) {
      const foreign = await api.get(`/v1/audit/events?${query}`, b.auditor);
      const madeUp = await api.get(
        `/v1/audit/events?${query.replace(/[0-9a-f]{8}-/g, '00000000-')}`,
        b.auditor,
      );
      expect(foreign.status).toBe(200);
      expect(foreign.text).toBe(madeUp.text);
      expect(foreign.body).toEqual({ events: [], next: null });
    }
    const exported = await exportText(`/v1/audit/events/export?streamId=user-${a.alice.userId}`, b.auditor);
    expect(exported.response.status).toBe(200);
    expect(exported.lines).toEqual([]);
  });

  it('only the auditor role reads the history; every other role is refused', async () => {
    for (const path of ['/v1/audit/events', '/v1/audit/events/export']) {
      expectProblem(await api.get(path), 401);
      for (const token of [a.admin, a.alice.token]) expectProblem(await api.get(path, token), 403);
    }
  });

  it.each([
    ['a bad cursor', 'cursor=bm90LWEtY3Vyc29y', 'invalid-cursor'],
    ['a cursor of another query', 'type=TenantCreated&cursor=__CURSOR__', 'invalid-cursor'],
    ['a limit of 1001', 'limit=1001', 'validation-failed'],
    ['a date without offset', 'from=2025-01-01T00:00:00', 'validation-failed'],
    ['from after to', 'from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z', 'validation-failed'],
    ['a user id that is not one', `userId=${encodeURIComponent("' OR 1=1 --")}`, 'validation-failed'],
  ])('%s is a 400 problem+json', async (_name, query, slug) => {
    let path = `/v1/audit/events?${query}`;
    if (query.includes('__CURSOR__')) {
      const first = await api.get('/v1/audit/events?limit=1', a.auditor);
      path = path.replace('__CURSOR__', first.body.next);
    }
    expectProblem(await api.get(path, a.auditor), 400, slug);
  });
});

describe('GET /v1/audit/events/export', () => {
  it('streams N events as N NDJSON lines, the same envelopes as the pages', async () => {
    const page = await api.get('/v1/audit/events?limit=1000', a.auditor);
    const { response, lines } = await exportText('/v1/audit/events/export', a.auditor);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(response.text.endsWith('\n')).toBe(true);
    expect(lines).toEqual(page.body.events);
    expect(lines.length).toBe(page.body.events.length);
    expect(response.text).not.toContain('verifier');
    const filtered = await exportText('/v1/audit/events/export?type=AppPasswordCreated', a.auditor);
    expect(filtered.lines.map((e) => e.type)).toEqual(Array(3).fill('AppPasswordCreated'));
  });

  it('bad filters are a 400 problem+json before any line; page parameters are refused', async () => {
    expectProblem(
      await api.get('/v1/audit/events/export?from=yesterday', a.auditor),
      400,
      'validation-failed',
    );
    expectProblem(await api.get('/v1/audit/events/export?limit=10', a.auditor), 400, 'validation-failed');
  });

  it('a client that leaves mid-export does not break the API', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: PORT,
          path: '/v1/audit/events/export',
          headers: { authorization: `Bearer ${a.auditor}` },
        },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.once('error', (error) => (req.destroyed ? resolve() : reject(error)));
      req.end();
    });
    expect((await api.get('/v1/audit/events?limit=1', a.auditor)).status).toBe(200);
  });
});
