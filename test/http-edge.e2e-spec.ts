import { randomUUID } from 'node:crypto';
import { startAppAndWait, type RunningApp } from './app-process';
import { ensureTestKeys, hostileTokens, mintToken } from './tokens';

// A port apart from a developer's running API and from the other e2e suites.
const base = 'http://127.0.0.1:3193';
const tenantId = randomUUID();
const statuses: number[] = [];

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(base + path, init);
  statuses.push(response.status);
  return response;
}

async function expectProblem(response: Response, status: number, slug: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `https://latchkey.dev/problems/${slug}`, status });
  return body;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the HTTP edge of the api process', () => {
  let running: RunningApp;

  beforeAll(async () => {
    ensureTestKeys();
    running = await startAppAndWait('api', { API_PORT: '3193' }, `${base}/health`);
  }, 60_000);

  afterAll(() => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
  });

  describe('public routes', () => {
    it('serves /health without a token', async () => {
      expect((await call('/health')).status).toBe(200);
    });

    it('serves the OpenAPI document at /docs, with the bearer scheme on protected operations', async () => {
      const ui = await call('/docs');
      expect(ui.status).toBe(200);
      expect(ui.headers.get('content-type')).toMatch(/text\/html/);
      const document = (await (await call('/docs/openapi.json')).json()) as {
        components: { securitySchemes: Record<string, unknown> };
        security: unknown;
        paths: Record<string, { get: { security?: unknown[]; responses: Record<string, unknown> } }>;
      };
      expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(document.security).toEqual([{ bearer: [] }]);
      expect(document.paths['/v1/me'].get.security).toBeUndefined(); // inherits the bearer requirement
      expect(document.paths['/v1/me'].get.responses).toHaveProperty('401');
      expect(document.paths['/health'].get.security).toEqual([]);
    });

    it('serves Prometheus metrics by route pattern, without ids or tokens', async () => {
      const token = await mintToken({ tenantId, sub: 'metrics-probe', roles: ['auditor'] });
      await call('/v1/me', { headers: bearer(token) });
      await call(`/no/such/${tenantId}`);
      const response = await call('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toMatch(/process_cpu_seconds_total/);
      expect(text).toMatch(
        /http_request_duration_seconds_count\{method="GET",route="\/v1\/me",status_code="200"\} \d+/,
      );
      expect(text).toMatch(/route="\(unmatched\)",status_code="404"/);
      expect(text).not.toContain(tenantId);
      expect(text).not.toContain(token);
    });
  });

  describe('authentication', () => {
    it('answers /v1/me with the principal from the token', async () => {
      const sub = randomUUID();
      const token = await mintToken({ tenantId, sub, roles: ['user'], mfa: true });
      const response = await call('/v1/me', { headers: bearer(token) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ tenantId, subject: sub, roles: ['user'], amr: ['pwd', 'mfa'] });
    });

    it('refuses a request without a token: 401 problem+json with a Bearer challenge', async () => {
      const response = await call('/v1/me');
      await expectProblem(response, 401, 'unauthenticated');
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="latchkey"');
    });

    it('refuses a malformed Authorization header as an invalid token', async () => {
      for (const authorization of [
        'Bearer',
        'Basic dXNlcjpwYXNz',
        'Bearer a.b',
        `Bearer ${'a'.repeat(9000)}.b.c`,
      ]) {
        const response = await call('/v1/me', { headers: { authorization } });
        await expectProblem(response, 401, 'invalid-token');
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      }
    });

    it('refuses every forged, expired or wrongly-signed token alike, saying nothing about why', async () => {
      const tokens = await hostileTokens({ tenantId, sub: randomUUID(), roles: ['tenant-admin'], mfa: true });
      expect(Object.keys(tokens).length).toBeGreaterThanOrEqual(10);
      const bodies = new Set<string>();
      for (const [why, token] of Object.entries(tokens)) {
        const response = await call('/v1/me', { headers: bearer(token) });
        expect({ why, status: response.status }).toEqual({ why, status: 401 });
        expect(response.headers.get('www-authenticate')).toBe(
          'Bearer realm="latchkey", error="invalid_token"',
        );
        const {
          instance: _instance,
          requestId: _requestId,
          ...body
        } = await expectProblem(response, 401, 'invalid-token');
        bodies.add(JSON.stringify(body));
      }
      expect(bodies.size).toBe(1);
      expect([...bodies][0]).not.toMatch(/expire|audience|issuer|signature|alg/i);
    });
  });

  describe('errors as problem+json', () => {
    const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      call('/v1/me', { method: 'POST', headers, body });

    it('answers malformed JSON with 400 malformed-body, without quoting it', async () => {
      const body = await expectProblem(await post('{"password": "hunter2'), 400, 'malformed-body');
      expect(JSON.stringify(body)).not.toContain('hunter2');
    });

    it('answers a body over the limit with 413', async () => {
      await expectProblem(await post(JSON.stringify({ text: 'x'.repeat(20_000) })), 413, 'payload-too-large');
    });

    it('answers a body that is not JSON with 415', async () => {
      await expectProblem(
        await post('name=phone', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
        'unsupported-media-type',
      );
      await expectProblem(await post('{}', { 'content-type': 'text/plain' }), 415, 'unsupported-media-type');
    });

    it('answers an unknown route with 404 problem+json', async () => {
      const body = await expectProblem(await call('/v1/no-such-thing?secret=hunter2'), 404, 'not-found');
      expect(body.instance).toBe('/v1/no-such-thing');
      expect(JSON.stringify(body)).not.toContain('hunter2');
    });

    it('gives every response a request id, and echoes a well-formed one', async () => {
      const response = await call('/v1/me', { headers: { 'x-request-id': 'client-req-0001' } });
      expect(response.headers.get('x-request-id')).toBe('client-req-0001');
      expect(await response.json()).toMatchObject({ requestId: 'client-req-0001' });
      const forged = await call('/v1/me', { headers: { 'x-request-id': 'short' } });
      expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  afterAll(() => {
    // Whatever we sent, the edge answered as a client error or success, never as a failure of ours.
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
  });
});
