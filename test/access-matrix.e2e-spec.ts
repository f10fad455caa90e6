// Every route × every role × a foreign tenant (PRODUCT.md §7, "Input and access"): each role gets
// exactly what its routes allow (401 without a token, 403 with the wrong role), and a caller of
// another tenant, holding the right role, cannot reach, change or even detect the first tenant's
// users and app passwords: it gets the very answer a nonexistent id gets, and nothing of theirs.
import { randomUUID } from 'node:crypto';
import type { Role } from '@latchkey/access';
import { ApiClient, expectProblem, problemShape, startApi, type ApiResponse } from './api-client';
import { mintToken } from './tokens';

const PORT = 3195;
const ROLES: Role[] = ['tenant-admin', 'user', 'hr', 'auditor', 'gateway'];
type Caller = Role | 'no token';
const CALLERS: Caller[] = [...ROLES, 'no token'];

let api: ApiClient;
let stop: () => void;

interface Member {
  userId: string;
  username: string;
  token: string;
  appPasswords: { appPasswordId: string; password: string }[];
}

interface Tenant {
  tenantId: string;
  name: string;
  domain: string;
  tokens: Record<Role, string>;
  /** The subject of the tenant's `user` token. */
  self: Member;
}

let a: Tenant & { target: Member; doomed: Member; victim: Member; bystander: Member };
let b: Tenant;
let counter = 0;
const unique = (label: string) => `${label}-${++counter}`;

async function tokensFor(tenantId: string, self: string): Promise<Record<Role, string>> {
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) {
    const sub = role === 'user' ? self : `${role}-${randomUUID()}`;
    tokens[role] = await mintToken({ tenantId, sub, roles: [role], mfa: true });
  }
  return tokens;
}

async function createTenant(label: string): Promise<Tenant> {
  const tenantId = randomUUID();
  const name = `${label} ${tenantId.slice(0, 8)}`;
  const admin = await mintToken({ tenantId, sub: `admin-${randomUUID()}`, roles: ['tenant-admin'] });
  const created = await api.post('/v1/tenant', admin, { name, policy: { appPasswordsAllowed: true } });
  expect(created.status).toBe(201);
  const tenant = {
    tenantId,
    name,
    domain: `${label.toLowerCase()}-${tenantId.slice(0, 8)}.test`,
    tokens: {} as Record<Role, string>,
  };
  const self = await member(tenant, admin, 'self', 2);
  return { ...tenant, self, tokens: await tokensFor(tenantId, self.userId) };
}

/** A user with MFA enforced and registered, holding `appPasswords` app passwords. */
async function member(
  tenant: { tenantId: string; domain: string },
  admin: string,
  label: string,
  appPasswords: number,
): Promise<Member> {
  const username = `${unique(label)}@${tenant.domain}`;
  const provisioned = await api.post('/v1/users', admin, { username, mfa: 'enforced' });
  expect(provisioned.status).toBe(201);
  const userId: string = provisioned.body.userId;
  const token = await mintToken({ tenantId: tenant.tenantId, sub: userId, roles: ['user'], mfa: true });
  expect((await api.post('/v1/me/mfa-registration', token)).status).toBe(200);
  const created: Member['appPasswords'] = [];
  for (let i = 0; i < appPasswords; i++) {
    const response = await api.post('/v1/me/app-passwords', token, { name: unique('device') });
    expect(response.status).toBe(201);
    created.push({ appPasswordId: response.body.appPasswordId, password: response.body.password });
  }
  return { userId, username, token, appPasswords: created };
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path template, as the controllers declare it. */
  template: string;
  path: () => string;
  body?: () => unknown;
  /** Who may call it: roles, every role, or anyone (no token needed). */
  allowed: Role[] | 'any role' | 'public';
  /** The status of a call by an allowed caller. */
  success: number;
  /** Calls as a tenant that does not exist yet (creating one). */
  freshTenant?: boolean;
}

const verifyBody = () => ({
  username: a.self.username,
  password: a.self.appPasswords[1].password,
  protocol: 'IMAP',
  clientIp: '192.0.2.10',
});

/** B4's instant: after everything this suite does, so the answers are about the present state. */
const AUDIT_AT = '2100-01-01T00:00:00Z';

const routes: Route[] = [
  {
    method: 'POST',
    template: '/v1/tenant',
    path: () => '/v1/tenant',
    body: () => ({ name: 'Fabrikam' }),
    allowed: ['tenant-admin'],
    success: 201,
    freshTenant: true,
  },
  {
    method: 'GET',
    template: '/v1/tenant',
    path: () => '/v1/tenant',
    allowed: ['tenant-admin', 'auditor'],
    success: 200,
  },
  {
    method: 'PATCH',
    template: '/v1/tenant/policy',
    path: () => '/v1/tenant/policy',
    body: () => ({ legacyAuthBlocked: false }),
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'POST',
    template: '/v1/users',
    path: () => '/v1/users',
    body: () => ({ username: `${unique('new')}@${a.domain}` }),
    allowed: ['tenant-admin'],
    success: 201,
  },
  {
    method: 'GET',
    template: '/v1/users/:userId',
    path: () => `/v1/users/${a.target.userId}`,
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'POST',
    template: '/v1/users/:userId/disable',
    path: () => `/v1/users/${a.target.userId}/disable`,
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'POST',
    template: '/v1/users/:userId/enable',
    path: () => `/v1/users/${a.target.userId}/enable`,
    allowed: ['tenant-admin'],
    success: 200,
  },
  // B2: the target is not suspended, so lifting a suspension changes nothing, and says so.
  {
    method: 'POST',
    template: '/v1/users/:userId/resume-sign-ins',
    path: () => `/v1/users/${a.target.userId}/resume-sign-ins`,
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'POST',
    template: '/v1/users/:userId/password-reset',
    path: () => `/v1/users/${a.target.userId}/password-reset`,
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'PUT',
    template: '/v1/users/:userId/mfa',
    path: () => `/v1/users/${a.target.userId}/mfa`,
    body: () => ({ mfa: 'enforced' }),
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'PUT',
    template: '/v1/users/:userId/modern-auth',
    path: () => `/v1/users/${a.target.userId}/modern-auth`,
    body: () => ({ requiresModernAuth: false }),
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'GET',
    template: '/v1/users/:userId/app-passwords',
    path: () => `/v1/users/${a.target.userId}/app-passwords`,
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'DELETE',
    template: '/v1/users/:userId/app-passwords/:appPasswordId',
    path: () => `/v1/users/${a.target.userId}/app-passwords/${a.target.appPasswords[0].appPasswordId}`,
    allowed: ['tenant-admin'],
    success: 204,
  },
  {
    method: 'DELETE',
    template: '/v1/users/:userId/app-passwords',
    path: () => `/v1/users/${a.target.userId}/app-passwords`,
    allowed: ['tenant-admin'],
    success: 204,
  },
  {
    method: 'DELETE',
    template: '/v1/users/:userId',
    path: () => `/v1/users/${a.doomed.userId}`,
    allowed: ['tenant-admin'],
    success: 204,
  },
  {
    method: 'POST',
    template: '/v1/me/mfa-registration',
    path: () => '/v1/me/mfa-registration',
    allowed: ['user'],
    success: 200,
  },
  {
    method: 'GET',
    template: '/v1/me/app-passwords',
    path: () => '/v1/me/app-passwords',
    allowed: ['user'],
    success: 200,
  },
  {
    method: 'POST',
    template: '/v1/me/app-passwords',
    path: () => '/v1/me/app-passwords',
    body: () => ({ name: unique('laptop') }),
    allowed: ['user'],
    success: 201,
  },
  {
    method: 'DELETE',
    template: '/v1/me/app-passwords/:appPasswordId',
    path: () => `/v1/me/app-passwords/${a.self.appPasswords[0].appPasswordId}`,
    allowed: ['user'],
    success: 204,
  },
  {
    method: 'POST',
    template: '/v1/sign-ins/verify',
    path: () => '/v1/sign-ins/verify',
    body: verifyBody,
    allowed: ['gateway'],
    success: 200,
  },
  {
    method: 'GET',
    template: '/v1/sign-in-activity',
    path: () => `/v1/sign-in-activity?username=${encodeURIComponent(a.self.username)}&days=7`,
    allowed: ['tenant-admin', 'auditor'],
    success: 200,
  },
  { method: 'GET', template: '/v1/me', path: () => '/v1/me', allowed: 'any role', success: 200 },
  {
    method: 'GET',
    template: '/v1/users',
    path: () => `/v1/users?username=${encodeURIComponent(a.self.username)}`,
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'GET',
    template: '/v1/users/page',
    path: () => '/v1/users/page?limit=2&prefix=victim',
    allowed: ['tenant-admin'],
    success: 200,
  },
  {
    method: 'GET',
    template: '/v1/me/app-password-policy',
    path: () => '/v1/me/app-password-policy',
    allowed: ['user'],
    success: 200,
  },
  // These tenants have no directory: an allowed caller reaches the route and is told so.
  {
    method: 'PUT',
    template: '/v1/directory',
    path: () => '/v1/directory',
    body: () => ({
      url: 'ldaps://127.0.0.1:1',
      caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      bindDn: 'CN=sync,DC=example,DC=test',
      bindPassword: 'not-a-real-one',
      baseDn: 'DC=example,DC=test',
      delayModel: { kind: 'fixed', delayMs: 1000 },
      changeDetection: 'usn',
    }),
    allowed: ['tenant-admin'],
    success: 422, // directory.unreachable: nothing listens there
  },
  {
    method: 'GET',
    template: '/v1/directory',
    path: () => '/v1/directory',
    allowed: ['tenant-admin', 'auditor'],
    success: 404,
  },
  {
    method: 'POST',
    template: '/v1/directory/sync',
    path: () => '/v1/directory/sync',
    allowed: ['tenant-admin'],
    success: 202,
  },
  {
    method: 'POST',
    template: '/v1/directory/mass-deletions/:passId/approve',
    path: () => `/v1/directory/mass-deletions/${randomUUID()}/approve`,
    allowed: ['tenant-admin'],
    success: 404,
  },
  {
    method: 'POST',
    template: '/v1/directory/mass-deletions/:passId/reject',
    path: () => `/v1/directory/mass-deletions/${randomUUID()}/reject`,
    allowed: ['tenant-admin'],
    success: 404,
  },
  {
    method: 'POST',
    template: '/v1/offboarding/webhook-secret',
    path: () => '/v1/offboarding/webhook-secret',
    allowed: ['tenant-admin'],
    success: 201,
  },
  // Authenticated by its HMAC signature, not a token: without an Idempotency-Key it goes no further.
  {
    method: 'POST',
    template: '/v1/offboarding/hr-requests',
    path: () => '/v1/offboarding/hr-requests',
    body: () => ({ username: 'nobody@example.test', action: 'disable' }),
    allowed: 'public',
    success: 400,
  },
  {
    method: 'GET',
    template: '/v1/offboarding/:id',
    path: () => `/v1/offboarding/${randomUUID()}`,
    allowed: ['tenant-admin', 'auditor'],
    success: 404,
  },
  // The history is the auditor's alone (read-only); narrowed to one event so the NDJSON export is
  // a single line that the client can parse as one JSON document.
  {
    method: 'GET',
    template: '/v1/audit/events',
    path: () => '/v1/audit/events?type=TenantCreated',
    allowed: ['auditor'],
    success: 200,
  },
  {
    method: 'GET',
    template: '/v1/audit/events/export',
    path: () => '/v1/audit/events/export?type=TenantCreated',
    allowed: ['auditor'],
    success: 200,
  },
  // B4: point in time, the auditor's alone (read-only), about a user of the caller's tenant.
  {
    method: 'GET',
    template: '/v1/audit/users/:userId/state',
    path: () => `/v1/audit/users/${a.victim.userId}/state?at=${AUDIT_AT}`,
    allowed: ['auditor'],
    success: 200,
  },
  {
    method: 'GET',
    template: '/v1/audit/users/:userId/app-passwords/:appPasswordId/sign-in-check',
    path: () =>
      `/v1/audit/users/${a.victim.userId}/app-passwords/${a.victim.appPasswords[0].appPasswordId}/sign-in-check?at=${AUDIT_AT}&protocol=IMAP&clientIp=192.0.2.10`,
    allowed: ['auditor'],
    success: 200,
  },
  // B5: a POST that only reads (the delay model is a structured body), the auditor's alone.
  {
    method: 'POST',
    template: '/v1/audit/counterfactual',
    path: () => '/v1/audit/counterfactual',
    body: () => ({ from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z', model: { kind: 'worst-case' } }),
    allowed: ['auditor'],
    success: 200,
  },
  // B3: the tenant's own chain, the auditor's alone (read-only).
  {
    method: 'GET',
    template: '/v1/audit/chain/verify',
    path: () => '/v1/audit/chain/verify',
    allowed: ['auditor'],
    success: 200,
  },
  {
    method: 'POST',
    template: '/v1/leak-reports',
    path: () => '/v1/leak-reports',
    body: () => ({ text: 'nothing secret here' }),
    allowed: 'public',
    success: 202,
  },
  { method: 'GET', template: '/health', path: () => '/health', allowed: 'public', success: 200 },
  { method: 'GET', template: '/docs', path: () => '/docs', allowed: 'public', success: 200 },
  {
    method: 'GET',
    template: '/docs/openapi.json',
    path: () => '/docs/openapi.json',
    allowed: 'public',
    success: 200,
  },
  { method: 'GET', template: '/metrics', path: () => '/metrics', allowed: 'public', success: 200 },
];

const mayCall = (route: Route, caller: Caller) =>
  route.allowed === 'public' ||
  (caller !== 'no token' && (route.allowed === 'any role' || route.allowed.includes(caller)));

/** Refused callers first: their calls must change nothing that the allowed call then relies on. */
const callersInOrder = (route: Route) => [
  ...CALLERS.filter((caller) => !mayCall(route, caller)),
  ...CALLERS.filter((caller) => mayCall(route, caller)),
];

const expectation = (route: Route, caller: Caller) =>
  mayCall(route, caller) ? String(route.success) : caller === 'no token' ? '401' : '403';

async function tokenOf(route: Route, caller: Caller): Promise<string | undefined> {
  if (caller === 'no token') return undefined;
  if (!route.freshTenant) return a.tokens[caller];
  return mintToken({ tenantId: randomUUID(), sub: `${caller}-${randomUUID()}`, roles: [caller], mfa: true });
}

describe('every route × every role × a foreign tenant', () => {
  beforeAll(async () => {
    ({ api, stop } = await startApi(PORT));
    const tenantA = await createTenant('Alpha');
    const admin = tenantA.tokens['tenant-admin'];
    a = {
      ...tenantA,
      target: await member(tenantA, admin, 'target', 2),
      doomed: await member(tenantA, admin, 'doomed', 1),
      victim: await member(tenantA, admin, 'victim', 2),
      bystander: await member(tenantA, admin, 'bystander', 0),
    };
    b = await createTenant('Bravo');
  }, 60_000);

  afterAll(() => stop?.());

  describe('every route × every role', () => {
    it('§7 access: the table covers every operation the API documents (a new route fails here until it is added)', async () => {
      const document = (await api.get('/docs/openapi.json')).body as { paths: Record<string, object> };
      const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
          .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      );
      expect(documented.length).toBeGreaterThanOrEqual(20);
      const tabled = new Set(routes.map((route) => `${route.method} ${route.template}`));
      expect(documented.filter((operation) => !tabled.has(operation))).toEqual([]);
    });

    for (const route of routes) {
      for (const caller of callersInOrder(route)) {
        const expected = expectation(route, caller);
        it(`§7 access: ${route.method} ${route.template} as ${caller} → ${expected}`, async () => {
          const response = await api.send({
            method: route.method,
            path: route.path(),
            token: await tokenOf(route, caller),
            json: route.body?.(),
          });
          if (expected === '401') {
            expectProblem(response, 401, 'unauthenticated');
            expect(response.headers['www-authenticate']).toBe('Bearer realm="latchkey"');
          } else if (expected === '403') {
            expectProblem(response, 403, 'forbidden');
          } else {
            expect({ status: response.status, body: response.text.slice(0, 300) }).toMatchObject({
              status: route.success,
            });
          }
        });
      }
    }

    it('§7 access: the allowed calls did what they say (the matrix is not vacuous)', async () => {
      const admin = a.tokens['tenant-admin'];
      expect((await api.get(`/v1/users/${a.target.userId}/app-passwords`, admin)).body).toEqual([]);
      expect((await api.get(`/v1/users/${a.doomed.userId}`, admin)).body.status).toBe('deleted');
      const mine = (await api.get('/v1/me/app-passwords', a.tokens.user)).body as { appPasswordId: string }[];
      expect(mine.map((p) => p.appPasswordId)).not.toContain(a.self.appPasswords[0].appPasswordId);
      expect(mine.map((p) => p.appPasswordId)).toContain(a.self.appPasswords[1].appPasswordId);
      const verdict = await api.post('/v1/sign-ins/verify', a.tokens.gateway, verifyBody());
      expect(verdict.body).toMatchObject({ allowed: true, userId: a.self.userId });
    });
  });

  describe('a caller of another tenant, with the right role', () => {
    /** What tenant A must never show to anyone else. */
    const secretsOfA = () => [
      a.tenantId,
      a.name,
      a.domain,
      ...[a.self, a.target, a.doomed, a.victim, a.bystander].flatMap((m) => [
        m.userId,
        m.username,
        ...m.appPasswords.flatMap((p) => [p.appPasswordId, p.password]),
      ]),
    ];
    const foreignResponses: ApiResponse[] = [];
    let victimBefore: ApiResponse;

    type Ids = { userId: string; appPasswordId: string };

    /** One request, sent once with tenant A's real ids and once with ids that exist nowhere. */
    interface Probe {
      name: string;
      method: Route['method'];
      path: (ids: Ids) => string;
      body?: () => unknown;
      /** The caller's token; user routes take the user from it, so it may name the ids too. */
      token: (ids: Ids) => Promise<string>;
      /** The problem type when the answer must be exactly that one. */
      slug?: string;
    }

    const ADMIN_ID_ROUTES: Omit<Probe, 'name' | 'token'>[] = [
      { method: 'GET', path: (i) => `/v1/users/${i.userId}`, slug: 'not-found' },
      { method: 'POST', path: (i) => `/v1/users/${i.userId}/disable`, slug: 'user.not-found' },
      { method: 'POST', path: (i) => `/v1/users/${i.userId}/enable`, slug: 'user.not-found' },
      { method: 'POST', path: (i) => `/v1/users/${i.userId}/password-reset`, slug: 'user.not-found' },
      { method: 'POST', path: (i) => `/v1/users/${i.userId}/resume-sign-ins`, slug: 'user.not-found' },
      {
        method: 'PUT',
        path: (i) => `/v1/users/${i.userId}/mfa`,
        body: () => ({ mfa: 'disabled' }),
        slug: 'user.not-found',
      },
      {
        method: 'PUT',
        path: (i) => `/v1/users/${i.userId}/modern-auth`,
        body: () => ({ requiresModernAuth: true }),
        slug: 'user.not-found',
      },
      { method: 'GET', path: (i) => `/v1/users/${i.userId}/app-passwords`, slug: 'not-found' },
      {
        method: 'DELETE',
        path: (i) => `/v1/users/${i.userId}/app-passwords/${i.appPasswordId}`,
        slug: 'user.not-found',
      },
      { method: 'DELETE', path: (i) => `/v1/users/${i.userId}/app-passwords`, slug: 'user.not-found' },
      { method: 'DELETE', path: (i) => `/v1/users/${i.userId}`, slug: 'user.not-found' },
    ];
    const template = (probe: Pick<Probe, 'path'>) =>
      probe.path({ userId: ':userId', appPasswordId: ':appPasswordId' });
    const otherAdmin = () => Promise.resolve(b.tokens['tenant-admin']);
    const tenantOfNobody = randomUUID();

    const probes: Probe[] = [
      ...ADMIN_ID_ROUTES.map((route) => ({
        ...route,
        name: `tenant-admin of tenant B: ${route.method} ${template(route)}`,
        token: otherAdmin,
      })),
      // A tenant that does not exist answers user.not-found or tenant.not-found, by route: what
      // matters is that real ids and made-up ones get the same answer.
      ...ADMIN_ID_ROUTES.map((route) => ({
        ...route,
        name: `tenant-admin of a tenant that does not exist: ${route.method} ${template(route)}`,
        token: () => mintToken({ tenantId: tenantOfNobody, sub: 'admin', roles: ['tenant-admin'] }),
        slug: undefined,
      })),
      {
        name: 'tenant-admin of tenant B: DELETE B’s own user’s app password by tenant A’s app password id',
        method: 'DELETE',
        path: (i) => `/v1/users/${b.self.userId}/app-passwords/${i.appPasswordId}`,
        token: otherAdmin,
        slug: 'app-password.not-found',
      },
      ...(
        [
          { method: 'POST', path: () => '/v1/me/mfa-registration' },
          { method: 'GET', path: () => '/v1/me/app-passwords' },
          { method: 'GET', path: () => '/v1/me/app-password-policy' },
          { method: 'POST', path: () => '/v1/me/app-passwords', body: () => ({ name: 'stolen' }) },
          { method: 'DELETE', path: (i) => `/v1/me/app-passwords/${i.appPasswordId}` },
        ] satisfies Omit<Probe, 'name' | 'token'>[]
      ).map((route) => ({
        ...route,
        name: `user of tenant B whose token names tenant A’s user: ${route.method} ${template(route)}`,
        token: ({ userId }: Ids) =>
          mintToken({ tenantId: b.tenantId, sub: userId, roles: ['user'], mfa: true }),
        slug: 'user.not-found',
      })),
      // B4: tenant B's auditor asks about tenant A's user and app password, by their real ids.
      {
        name: 'auditor of tenant B: GET /v1/audit/users/:userId/state',
        method: 'GET',
        path: (i) => `/v1/audit/users/${i.userId}/state?at=${AUDIT_AT}`,
        token: () => Promise.resolve(b.tokens.auditor),
        slug: 'user.not-found',
      },
      {
        name: 'auditor of tenant B: GET /v1/audit/users/:userId/app-passwords/:appPasswordId/sign-in-check',
        method: 'GET',
        path: (i) =>
          `/v1/audit/users/${i.userId}/app-passwords/${i.appPasswordId}/sign-in-check?at=${AUDIT_AT}&protocol=IMAP`,
        token: () => Promise.resolve(b.tokens.auditor),
        slug: 'user.not-found',
      },
      {
        name: 'auditor of tenant B: sign-in check of B’s own user with tenant A’s app password id',
        method: 'GET',
        path: (i) =>
          `/v1/audit/users/${b.self.userId}/app-passwords/${i.appPasswordId}/sign-in-check?at=${AUDIT_AT}&protocol=IMAP`,
        token: () => Promise.resolve(b.tokens.auditor),
        slug: 'app-password.not-found',
      },
      {
        name: 'user of tenant B: DELETE /v1/me/app-passwords/ with tenant A’s app password id',
        method: 'DELETE',
        path: (i) => `/v1/me/app-passwords/${i.appPasswordId}`,
        token: () => Promise.resolve(b.tokens.user),
        slug: 'app-password.not-found',
      },
    ];

    beforeAll(async () => {
      victimBefore = await api.get(`/v1/users/${a.victim.userId}`, a.tokens['tenant-admin']);
      expect(victimBefore.status).toBe(200);
    });

    for (const probe of probes) {
      it(`§7 tenant isolation: ${probe.name} → 404, exactly as for an id that exists nowhere`, async () => {
        const real = { userId: a.victim.userId, appPasswordId: a.victim.appPasswords[0].appPasswordId };
        const none = { userId: randomUUID(), appPasswordId: randomUUID() };
        const send = async (ids: Ids) =>
          api.send({
            method: probe.method,
            path: probe.path(ids),
            token: await probe.token(ids),
            json: probe.body?.(),
          });
        const foreign = await send(real);
        const nonexistent = await send(none);
        foreignResponses.push(foreign);
        expectProblem(foreign, 404, probe.slug);
        expect(problemShape(foreign)).toEqual(problemShape(nonexistent));
        // The only thing of A's in the answer is the path the caller sent itself.
        // (A problem's instance is the path without its query string.)
        expect(foreign.body.instance).toBe(probe.path(real).split('?')[0]);
      });
    }

    // Before B's gateway asks about tenant A's user below, which B's own history then records.
    it('§7 tenant isolation: tenant B’s sign-in activity knows tenant A’s user no more than a made-up one', async () => {
      for (const role of ['tenant-admin', 'auditor'] as const) {
        const activity = await api.get(
          `/v1/sign-in-activity?username=${encodeURIComponent(a.victim.username)}&days=90`,
          b.tokens[role],
        );
        const unknown = await api.get(
          `/v1/sign-in-activity?username=nobody%40${b.domain}&days=90`,
          b.tokens[role],
        );
        foreignResponses.push(activity);
        expect(activity.status).toBe(200);
        expect(activity.body).toEqual([]);
        expect(activity.text).toBe(unknown.text);
      }
    });

    it('§7 tenant isolation: tenant B’s gateway verifying tenant A’s user with her real app password is told exactly what an unknown user is told', async () => {
      const ask = (username: string) =>
        api.post('/v1/sign-ins/verify', b.tokens.gateway, {
          username,
          password: a.victim.appPasswords[0].password,
          protocol: 'IMAP',
          clientIp: '198.51.100.20',
        });
      const foreign = await ask(a.victim.username);
      const unknown = await ask(`nobody@${b.domain}`);
      foreignResponses.push(foreign);
      expect(foreign.status).toBe(200);
      expect(foreign.body).toEqual({ allowed: false, reason: 'invalid-credentials', rule: null });
      expect(foreign.text).toBe(unknown.text);
    });

    it('§7 tenant isolation: tenant B’s admin and auditor read and change only tenant B', async () => {
      for (const role of ['tenant-admin', 'auditor'] as const) {
        const read = await api.get('/v1/tenant', b.tokens[role]);
        foreignResponses.push(read);
        expect(read.status).toBe(200);
        expect(read.body).toMatchObject({ tenantId: b.tenantId, name: b.name });
      }
      const before = (await api.get('/v1/tenant', a.tokens['tenant-admin'])).body;
      const changed = await api.patch('/v1/tenant/policy', b.tokens['tenant-admin'], {
        legacyAuthBlocked: true,
        appPasswordsAllowed: false,
      });
      foreignResponses.push(changed);
      expect(changed.body).toMatchObject({ tenantId: b.tenantId, policy: { legacyAuthBlocked: true } });
      const created = await api.post('/v1/users', b.tokens['tenant-admin'], {
        username: `${unique('newcomer')}@${b.domain}`,
      });
      foreignResponses.push(created);
      expect(created.status).toBe(201);
      expect((await api.get('/v1/tenant', a.tokens['tenant-admin'])).body).toEqual(before);
      // Tenant A's admin cannot see B's new user either.
      expectProblem(await api.get(`/v1/users/${created.body.userId}`, a.tokens['tenant-admin']), 404);

      // B's list of users is B's alone, whatever prefix or cursor B's admin sends: a cursor made from
      // tenant A's username only resumes B's own list after that name.
      const forged = Buffer.from(
        JSON.stringify({ v: 1, after: a.victim.username.slice(0, 3), p: '' }),
      ).toString('base64url');
      for (const query of [
        '',
        '?prefix=victim',
        `?prefix=${encodeURIComponent(a.victim.username)}`,
        `?cursor=${forged}`,
      ]) {
        const listed = await api.get(`/v1/users/page${query}`, b.tokens['tenant-admin']);
        foreignResponses.push(listed);
        expect(listed.status).toBe(200);
        for (const row of listed.body.items as { username: string }[]) expect(row.username).toMatch(b.domain);
      }
      const everyone = (await api.get('/v1/users/page', b.tokens['tenant-admin'])).body.items as {
        username: string;
      }[];
      expect(everyone.map((u) => u.username)).toEqual(
        expect.arrayContaining([b.self.username, created.body.username]),
      );
    });

    it('§7 tenant isolation: no answer to a foreign caller holds anything of tenant A but the path it sent', () => {
      expect(foreignResponses.length).toBeGreaterThanOrEqual(probes.length + 4);
      for (const response of foreignResponses) {
        const { instance: _instance, ...body } = (response.body ?? {}) as Record<string, unknown>;
        const text = JSON.stringify(body).toLowerCase();
        const leaked = secretsOfA().filter((secret) => text.includes(secret.toLowerCase()));
        expect({ request: `${response.request.method} ${response.request.path}`, leaked }).toEqual({
          request: `${response.request.method} ${response.request.path}`,
          leaked: [],
        });
      }
    });

    it('§7 tenant isolation: tenant A’s victim is exactly as before: same version, same app passwords, still signs in', async () => {
      const admin = a.tokens['tenant-admin'];
      expect((await api.get(`/v1/users/${a.victim.userId}`, admin)).body).toEqual(victimBefore.body);
      const listed = (await api.get(`/v1/users/${a.victim.userId}/app-passwords`, admin)).body as {
        appPasswordId: string;
      }[];
      expect(listed.map((p) => p.appPasswordId).sort()).toEqual(
        a.victim.appPasswords.map((p) => p.appPasswordId).sort(),
      );
      for (const { password } of a.victim.appPasswords) {
        const verdict = await api.post('/v1/sign-ins/verify', a.tokens.gateway, {
          username: a.victim.username,
          password,
          protocol: 'IMAP',
          clientIp: '192.0.2.10',
        });
        expect(verdict.body).toMatchObject({ allowed: true, userId: a.victim.userId });
      }
    });
  });

  afterAll(() => {
    expect(api.responses.filter((response) => response.status >= 500).map((r) => r.text)).toEqual([]);
  });
});
