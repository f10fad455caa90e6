// Hundreds of malformed or hostile requests across the API (PRODUCT.md §7, "Input and access"):
// each is refused with a 4xx application/problem+json that has a `type` and a `status`, never a 5xx,
// and none of them leaves anything behind: the event store and the read models of the tenants
// involved hold exactly the rows they held before.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { DataSource } from 'typeorm';
import { parseConfig } from '@latchkey/config';
import { dataSourceOptions } from '@latchkey/persistence';
import { ApiClient, expectProblem, startApi, type ApiRequest } from './api-client';
import { hostileTokens, mintToken } from './tokens';

const PORT = 3196;

let api: ApiClient;
let stop: () => void;
let db: DataSource;

interface Fixture {
  a: {
    tenantId: string;
    admin: string;
    gateway: string;
    alice: { userId: string; username: string; token: string; tokenWithoutMfa: string };
    laptop: { appPasswordId: string; password: string };
  };
  /** Another tenant, with a user of its own. */
  b: { tenantId: string; admin: string; userId: string };
  /** A tenant id that no tenant has: its admin token is valid, its tenant does not exist. */
  z: { tenantId: string; admin: string };
  hostile: Record<'admin' | 'gateway' | 'user', Record<string, string>>;
}

let f: Fixture;

interface Case {
  name: string;
  status: number;
  slug?: string;
  build: (f: Fixture) => ApiRequest | Promise<ApiRequest>;
}

const cases: Case[] = [];
const add = (name: string, status: number, slug: string | undefined, build: Case['build']) =>
  cases.push({ name, status, slug, build });

const json = (method: string, path: string, token: string, body: unknown): ApiRequest => ({
  method,
  path,
  token,
  json: body,
});
/** A body sent exactly as written: for JSON that JSON.stringify would never produce. */
const raw = (
  method: string,
  path: string,
  token: string | undefined,
  body: string,
  contentType = 'application/json',
): ApiRequest => ({
  method,
  path,
  token,
  body,
  headers: { 'content-type': contentType },
});

const BAD = 'validation-failed';
const MALFORMED = 'malformed-body';
const HOSTILE_TOKEN_KINDS = [
  'expired',
  'not yet valid',
  'wrong audience',
  'wrong issuer',
  'signed by another key',
  'alg none',
  'HS256 with the public key as secret',
  'no tenant',
  'unknown role',
  'tampered payload',
  'garbage',
];

// ---- Tokens: forged, expired, wrongly signed, alg none, and valid ones naming another tenant ----
for (const kind of HOSTILE_TOKEN_KINDS) {
  add(`a token (${kind}) on GET /v1/users/:userId`, 401, 'invalid-token', (f) => ({
    path: `/v1/users/${f.a.alice.userId}`,
    token: f.hostile.admin[kind],
  }));
  add(`a token (${kind}) on POST /v1/users`, 401, 'invalid-token', (f) =>
    json('POST', '/v1/users', f.hostile.admin[kind], { username: 'mallory@contoso.test' }),
  );
  add(`a token (${kind}) on POST /v1/sign-ins/verify`, 401, 'invalid-token', (f) =>
    json('POST', '/v1/sign-ins/verify', f.hostile.gateway[kind], {
      username: f.a.alice.username,
      password: f.a.laptop.password,
      protocol: 'IMAP',
      clientIp: '192.0.2.1',
    }),
  );
  add(`a token (${kind}) on POST /v1/me/app-passwords`, 401, 'invalid-token', (f) =>
    json('POST', '/v1/me/app-passwords', f.hostile.user[kind], { name: 'Forged' }),
  );
}
add(
  'a 20 kB bearer token, over Node’s header limit (regression: was a bare 431 without a body)',
  431,
  'headers-too-large',
  (f) => ({
    path: `/v1/users/${f.a.alice.userId}`,
    headers: { authorization: `Bearer ${'a'.repeat(20_000)}.b.c` },
  }),
);
add('Basic credentials instead of a bearer token', 401, 'invalid-token', (f) => ({
  path: `/v1/users/${f.a.alice.userId}`,
  headers: {
    authorization: `Basic ${Buffer.from(`${f.a.alice.username}:${f.a.laptop.password}`).toString('base64')}`,
  },
}));
add('two bearer tokens in one header', 401, 'invalid-token', (f) => ({
  path: `/v1/users/${f.a.alice.userId}`,
  headers: { authorization: `Bearer ${f.a.admin}, Bearer ${f.a.admin}` },
}));
add('an app password as a bearer token (R4: never an admin credential)', 401, 'invalid-token', (f) => ({
  path: `/v1/users/${f.a.alice.userId}`,
  headers: { authorization: `Bearer ${f.a.laptop.password}` },
}));
add('a token whose tid names another tenant: GET that tenant’s user', 404, 'not-found', (f) => ({
  path: `/v1/users/${f.a.alice.userId}`,
  token: f.b.admin,
}));
add('a token whose tid names another tenant: disable', 404, 'user.not-found', (f) => ({
  method: 'POST',
  path: `/v1/users/${f.a.alice.userId}/disable`,
  token: f.b.admin,
}));
add('a token whose tid names another tenant: delete the user', 404, 'user.not-found', (f) => ({
  method: 'DELETE',
  path: `/v1/users/${f.a.alice.userId}`,
  token: f.b.admin,
}));
add('a token whose tid names another tenant: delete an app password', 404, 'user.not-found', (f) => ({
  method: 'DELETE',
  path: `/v1/users/${f.a.alice.userId}/app-passwords/${f.a.laptop.appPasswordId}`,
  token: f.b.admin,
}));
add('a token whose tid names another tenant: mfa state', 404, 'user.not-found', (f) =>
  json('PUT', `/v1/users/${f.a.alice.userId}/mfa`, f.b.admin, { mfa: 'disabled' }),
);
add('a token whose tid names a tenant that does not exist: provision', 404, 'tenant.not-found', (f) =>
  json('POST', '/v1/users', f.z.admin, { username: 'mallory@contoso.test' }),
);
add('a token whose tid names a tenant that does not exist: read it', 404, 'not-found', (f) => ({
  path: '/v1/tenant',
  token: f.z.admin,
}));
add('a token whose tid names a tenant that does not exist: change its policy', 404, 'tenant.not-found', (f) =>
  json('PATCH', '/v1/tenant/policy', f.z.admin, { appPasswordsAllowed: true }),
);
// A UUID subject in capitals is the same user (UUIDs are case-insensitive, the verifier lower-cases
// them); in braces, as Windows formats a GUID, it is not a user id at all.
for (const sub of ['../admin', "' OR 1=1 --", '*)(uid=*', '{ALICE}']) {
  add(
    `a user token whose subject is not a user id (${sub}): list (regression: was a 500)`,
    404,
    'user.not-found',
    (f) => ({
      path: '/v1/me/app-passwords',
      token: f.hostile.user[`sub:${sub}`],
    }),
  );
  add(
    `a user token whose subject is not a user id (${sub}): app-password policy`,
    404,
    'user.not-found',
    (f) => ({
      path: '/v1/me/app-password-policy',
      token: f.hostile.user[`sub:${sub}`],
    }),
  );
  add(`a user token whose subject is not a user id (${sub}): create`, 404, 'user.not-found', (f) =>
    json('POST', '/v1/me/app-passwords', f.hostile.user[`sub:${sub}`], { name: 'Sneaky' }),
  );
}
add('a user token without mfa in amr: create', 403, 'mfa-required', (f) =>
  json('POST', '/v1/me/app-passwords', f.a.alice.tokenWithoutMfa, { name: 'Tablet' }),
);

// ---- PATCH /v1/tenant/policy: numbers out of range, wrong types, pollution, bad JSON ----
const policy = (name: string, status: number, slug: string, body: unknown) =>
  add(`policy ${name}`, status, slug, (f) => json('PATCH', '/v1/tenant/policy', f.a.admin, body));
const policyRaw = (name: string, status: number, slug: string, body: string, contentType?: string) =>
  add(`policy ${name}`, status, slug, (f) => raw('PATCH', '/v1/tenant/policy', f.a.admin, body, contentType));
policy('maxAppPasswordsPerUser: 41 (R3)', 422, 'R3.limit-above-maximum', { maxAppPasswordsPerUser: 41 });
policy('maxAppPasswordsPerUser: 1000', 422, 'R3.limit-above-maximum', { maxAppPasswordsPerUser: 1000 });
policy('maxAppPasswordsPerUser: -1', 422, 'R3.invalid-setting', { maxAppPasswordsPerUser: -1 });
policy('maxAppPasswordsPerUser: 0', 422, 'R3.invalid-setting', { maxAppPasswordsPerUser: 0 });
policyRaw('maxAppPasswordsPerUser: 1e309', 400, BAD, '{"maxAppPasswordsPerUser": 1e309}');
policyRaw('maxAppPasswordsPerUser: -1e309', 400, BAD, '{"maxAppPasswordsPerUser": -1e309}');
policyRaw('maxAppPasswordsPerUser: 2^53 + 1', 400, BAD, '{"maxAppPasswordsPerUser": 9007199254740993}');
policy('maxAppPasswordsPerUser: 1.5', 400, BAD, { maxAppPasswordsPerUser: 1.5 });
policy('maxAppPasswordsPerUser: "10"', 400, BAD, { maxAppPasswordsPerUser: '10' });
policy('maxAppPasswordsPerUser: null', 400, BAD, { maxAppPasswordsPerUser: null });
policy('maxLifetimeDays: 0 (B7)', 422, 'B7.invalid-setting', { maxLifetimeDays: 0 });
policy('maxLifetimeDays: 3651', 422, 'B7.invalid-setting', { maxLifetimeDays: 3651 });
policy('maxLifetimeDays: -30', 422, 'B7.invalid-setting', { maxLifetimeDays: -30 });
policy('maxLifetimeDays: "forever"', 400, BAD, { maxLifetimeDays: 'forever' });
policy('lockout.threshold: 0 (B8)', 422, 'B8.invalid-setting', { lockout: { threshold: 0 } });
policy('lockout.threshold: 101', 422, 'B8.invalid-setting', { lockout: { threshold: 101 } });
policy('lockout.maxLockSeconds below baseLockSeconds', 422, 'B8.invalid-setting', {
  lockout: { baseLockSeconds: 600, maxLockSeconds: 60 },
});
policy('lockout.resetAfterSeconds: 59', 422, 'B8.invalid-setting', { lockout: { resetAfterSeconds: 59 } });
policy('lockout: null', 400, BAD, { lockout: null });
policy('lockout: an array', 400, BAD, { lockout: [10] });
policy('lockout with an unknown setting', 400, BAD, { lockout: { threshold: 5, window: 3 } });
policy('appPasswordsAllowed: "true"', 400, BAD, { appPasswordsAllowed: 'true' });
policy('appPasswordsAllowed: 1', 400, BAD, { appPasswordsAllowed: 1 });
policy('appPasswordsAllowed: null', 400, BAD, { appPasswordsAllowed: null });
policy('legacyAuthBlocked: [true]', 400, BAD, { legacyAuthBlocked: [true] });
policy('an unknown setting beside a valid one', 400, BAD, {
  appPasswordsAllowed: false,
  allowEverything: true,
});
policy('a tenantId in the body (the tenant comes from the token)', 400, BAD, { tenantId: randomUUID() });
policyRaw('with __proto__', 400, BAD, '{"__proto__": {"appPasswordsAllowed": false}}');
policyRaw(
  'with constructor.prototype',
  400,
  BAD,
  '{"constructor": {"prototype": {"legacyAuthBlocked": true}}}',
);
policyRaw('with __proto__ inside lockout', 400, BAD, '{"lockout": {"__proto__": {"threshold": 1}}}');
policyRaw(
  'with __proto__ beside a valid change (nothing applied)',
  400,
  BAD,
  '{"appPasswordsAllowed": false, "__proto__": {"isAdmin": true}}',
);
policyRaw('as an array', 400, BAD, '[]');
policyRaw('as an array holding the object', 400, BAD, '[{"appPasswordsAllowed": false}]');
policyRaw('as null', 400, MALFORMED, 'null');
policyRaw('as a string', 400, MALFORMED, '"appPasswordsAllowed"');
policyRaw('as a number', 400, MALFORMED, '42');
policyRaw('as true', 400, MALFORMED, 'true');
policyRaw('truncated JSON', 400, MALFORMED, '{"appPasswordsAllowed": fal');
policyRaw('single-quoted JSON', 400, MALFORMED, "{'appPasswordsAllowed': false}");
policyRaw('a trailing comma', 400, MALFORMED, '{"appPasswordsAllowed": false,}');
policyRaw('NaN', 400, MALFORMED, '{"maxAppPasswordsPerUser": NaN}');
policyRaw('a hexadecimal number', 400, MALFORMED, '{"maxAppPasswordsPerUser": 0x10}');
policyRaw('a comment', 400, MALFORMED, '{"appPasswordsAllowed": false /* sneaky */}');
policyRaw('arrays nested 7,000 deep', 400, BAD, `{"lockout": ${'['.repeat(7000)}${']'.repeat(7000)}}`);
policyRaw('objects nested 2,000 deep', 400, BAD, `{"lockout": ${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`);
policyRaw('a top-level array nested 8,000 deep', 400, BAD, `${'['.repeat(8000)}${']'.repeat(8000)}`);
policyRaw('as text/plain', 415, 'unsupported-media-type', '{"appPasswordsAllowed": false}', 'text/plain');
policyRaw(
  'as a form',
  415,
  'unsupported-media-type',
  'appPasswordsAllowed=false',
  'application/x-www-form-urlencoded',
);
policyRaw(
  'as multipart',
  415,
  'unsupported-media-type',
  '--x\r\n\r\nfalse\r\n--x--',
  'multipart/form-data; boundary=x',
);
policyRaw(
  'as XML',
  415,
  'unsupported-media-type',
  '<policy appPasswordsAllowed="false"/>',
  'application/xml',
);
policyRaw(
  'in latin1',
  415,
  'unsupported-media-type',
  '{"appPasswordsAllowed": false}',
  'application/json; charset=latin1',
);
policyRaw(
  'declared UTF-16 but sent as UTF-8',
  400,
  MALFORMED,
  '{"appPasswordsAllowed": false}',
  'application/json; charset=utf-16',
);
add('policy without a content type', 415, 'unsupported-media-type', (f) => ({
  method: 'PATCH',
  path: '/v1/tenant/policy',
  token: f.a.admin,
  body: '{"appPasswordsAllowed": false}',
}));
for (const encoding of ['gzip', 'deflate', 'br']) {
  add(`policy with content-encoding ${encoding}`, 415, 'unsupported-media-type', (f) => ({
    ...raw('PATCH', '/v1/tenant/policy', f.a.admin, '{"appPasswordsAllowed": false}'),
    headers: { 'content-type': 'application/json', 'content-encoding': encoding },
  }));
}
policyRaw(
  'of 17 kB (over the 16 kB limit)',
  413,
  'payload-too-large',
  JSON.stringify({ appPasswordsAllowed: false, pad: 'x'.repeat(17 * 1024) }),
);
policyRaw('of 64 kB', 413, 'payload-too-large', JSON.stringify({ pad: 'x'.repeat(64 * 1024) }));

// ---- POST /v1/tenant as a tenant that does not exist yet ----
const tenant = (name: string, status: number, slug: string, body: unknown) =>
  add(`create tenant ${name}`, status, slug, (f) => json('POST', '/v1/tenant', f.z.admin, body));
tenant('without a name', 400, BAD, {});
tenant('with a numeric name', 400, BAD, { name: 5 });
tenant('with a null name', 400, BAD, { name: null });
tenant('with an array for the name', 400, BAD, { name: ['Fabrikam'] });
tenant('with an object for the name', 400, BAD, { name: { en: 'Fabrikam' } });
tenant('with a 201-character name', 400, BAD, { name: 'x'.repeat(201) });
tenant('with a 129-character name', 422, 'tenant.invalid-name', { name: 'x'.repeat(129) });
tenant('with a blank name', 422, 'tenant.invalid-name', { name: '   ' });
tenant('with NUL in the name', 422, 'tenant.invalid-name', { name: 'Fab\u0000rikam' });
tenant('with a right-to-left override in the name', 422, 'tenant.invalid-name', { name: '\u202Emakirbaf' });
tenant('with a zero-width space in the name', 422, 'tenant.invalid-name', { name: 'Fab\u200Brikam' });
add('create tenant with an unpaired surrogate in the name', 422, 'tenant.invalid-name', (f) =>
  raw('POST', '/v1/tenant', f.z.admin, '{"name": "Fab\\ud800rikam"}'),
);
tenant('with maxAppPasswordsPerUser 41 (R3)', 422, 'R3.limit-above-maximum', {
  name: 'Fabrikam',
  policy: { maxAppPasswordsPerUser: 41 },
});
tenant('with a negative lifetime (B7)', 422, 'B7.invalid-setting', {
  name: 'Fabrikam',
  policy: { maxLifetimeDays: -1 },
});
tenant('with SQL in the name and an invalid policy', 422, 'R3.limit-above-maximum', {
  name: "'; DROP TABLE events; --",
  policy: { maxAppPasswordsPerUser: 41 },
});
tenant('with a policy array', 400, BAD, { name: 'Fabrikam', policy: [] });
tenant('naming its tenantId in the body', 400, BAD, { name: 'Fabrikam', tenantId: randomUUID() });
add('create tenant with __proto__', 400, BAD, (f) =>
  raw(
    'POST',
    '/v1/tenant',
    f.z.admin,
    '{"name": "Fabrikam", "__proto__": {"policy": {"appPasswordsAllowed": true}}}',
  ),
);
add('create tenant again, with SQL in the name', 409, 'tenant.already-exists', (f) =>
  json('POST', '/v1/tenant', f.a.admin, { name: "'; DROP TABLE tenants; --" }),
);

// ---- POST /v1/users ----
const provision = (name: string, status: number, slug: string, body: unknown) =>
  add(`provision ${name}`, status, slug, (f) => json('POST', '/v1/users', f.a.admin, body));
const ok = 'ok@contoso.test';
provision('without a username', 400, BAD, {});
provision('with a numeric username', 400, BAD, { username: 42 });
provision('with a null username', 400, BAD, { username: null });
provision('with an array username', 400, BAD, { username: [ok] });
provision('with a 321-character username', 400, BAD, { username: `${'x'.repeat(309)}@contoso.test` });
provision('with a 263-character username', 422, 'user.invalid-username', {
  username: `${'x'.repeat(250)}@contoso.test`,
});
provision('with SQL for a username', 422, 'user.invalid-username', { username: "' OR 1=1 --" });
provision('with SQL and no domain', 422, 'user.invalid-username', { username: "admin'--" });
provision('with an LDAP filter for a username', 422, 'user.invalid-username', { username: '*)(uid=*' });
provision('with an LDAP filter and a domain part', 422, 'user.invalid-username', {
  username: '*)(|(objectClass=*) @contoso.test',
});
provision('with NUL in the username', 422, 'user.invalid-username', { username: 'al\u0000ice@contoso.test' });
provision('with a right-to-left override in the username', 422, 'user.invalid-username', {
  username: '\u202Eecila@contoso.test',
});
provision('with a zero-width joiner in the username', 422, 'user.invalid-username', {
  username: 'al\u200Dice@contoso.test',
});
add('provision with an unpaired surrogate in the username', 422, 'user.invalid-username', (f) =>
  raw('POST', '/v1/users', f.a.admin, '{"username": "al\\ud800ice@contoso.test"}'),
);
provision('without a domain', 422, 'user.invalid-username', { username: 'alice@contoso' });
provision('with mfa "always"', 400, BAD, { username: ok, mfa: 'always' });
provision('with mfa true', 400, BAD, { username: ok, mfa: true });
provision('with roles as a string', 400, BAD, { username: ok, roles: 'tenant-admin' });
provision('with an unknown role', 400, BAD, { username: ok, roles: ['root'] });
provision('with the gateway role (not a user role)', 400, BAD, { username: ok, roles: ['gateway'] });
provision('with five roles', 400, BAD, { username: ok, roles: ['user', 'user', 'user', 'user', 'user'] });
provision('with requiresModernAuth "no"', 400, BAD, { username: ok, requiresModernAuth: 'no' });
provision('choosing its userId', 400, BAD, { username: ok, userId: randomUUID() });
provision('naming a tenantId', 400, BAD, { username: ok, tenantId: randomUUID() });
provision('claiming to be synced', 400, BAD, { username: ok, source: 'synced' });
add('provision with __proto__ roles', 400, BAD, (f) =>
  raw('POST', '/v1/users', f.a.admin, `{"username": "${ok}", "__proto__": {"roles": ["tenant-admin"]}}`),
);
add('provision with constructor.prototype roles', 400, BAD, (f) =>
  raw(
    'POST',
    '/v1/users',
    f.a.admin,
    `{"username": "${ok}", "constructor": {"prototype": {"roles": ["tenant-admin"]}}}`,
  ),
);
add('provision a username that is taken', 409, 'user.username-taken', (f) =>
  json('POST', '/v1/users', f.a.admin, { username: f.a.alice.username }),
);
add('provision a username that is taken, in upper case', 409, 'user.username-taken', (f) =>
  json('POST', '/v1/users', f.a.admin, { username: f.a.alice.username.toUpperCase() }),
);
add('provision a username that is taken, in full-width letters', 409, 'user.username-taken', (f) =>
  json('POST', '/v1/users', f.a.admin, {
    username: f.a.alice.username.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
  }),
);

// ---- PUT /v1/users/:id/mfa and /modern-auth ----
const mfa = (name: string, body: string) =>
  add(`mfa state ${name}`, 400, BAD, (f) => raw('PUT', `/v1/users/${f.a.alice.userId}/mfa`, f.a.admin, body));
mfa('"sometimes"', '{"mfa": "sometimes"}');
mfa('missing', '{}');
mfa('null', '{"mfa": null}');
mfa('as an array body', '[]');
mfa('with an extra member', '{"mfa": "enforced", "mfaRegistered": true}');
const modernAuth = (name: string, body: string) =>
  add(`modern-auth ${name}`, 400, BAD, (f) =>
    raw('PUT', `/v1/users/${f.a.alice.userId}/modern-auth`, f.a.admin, body),
  );
modernAuth('"true" as a string', '{"requiresModernAuth": "true"}');
modernAuth('1', '{"requiresModernAuth": 1}');
modernAuth('missing', '{}');

// ---- PUT /v1/directory: refused before any bind is tried ----
// Valid but for the member under test; nothing listens at its url (the access matrix shows that a
// valid body gets as far as the bind, a 422).
const directoryBody = {
  url: 'ldaps://127.0.0.1:1',
  caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  bindDn: 'CN=sync,DC=example,DC=test',
  bindPassword: 'not-a-real-one',
  baseDn: 'DC=example,DC=test',
  delayModel: { kind: 'fixed', delayMs: 1000 },
};
const directory = (name: string, body: unknown) =>
  add(`PUT /v1/directory ${name}`, 400, BAD, (f) => json('PUT', '/v1/directory', f.a.admin, body));
for (const [name, value] of [
  ['"DirSync" (the values are lower-case)', 'DirSync'],
  ['"usn " with a trailing space', 'usn '],
  ['"polling" (not a mode)', 'polling'],
  ['an empty string', ''],
  ['null', null],
  ['true', true],
  ['1', 1],
  ['an array', ['usn']],
  ['an object', { mode: 'usn' }],
  ['LDAP filter metacharacters', 'usn)(objectClass=*'],
] as const) {
  directory(`changeDetection: ${name}`, { ...directoryBody, changeDetection: value });
}
directory('with an ldap:// url (simple binds need TLS)', { ...directoryBody, url: 'ldap://127.0.0.1:389' });
directory('without a delay model', { ...directoryBody, delayModel: undefined });
directory('with an empty bind password', { ...directoryBody, bindPassword: '' });
directory('with a write identity but no write password', {
  ...directoryBody,
  writeBindDn: 'CN=hr,DC=example,DC=test',
});
for (const member of ['bindDn', 'baseDn', 'usersOnlyUnder'] as const) {
  directory(`with a raw NUL in ${member}`, {
    ...directoryBody,
    [member]: 'OU=Staff\u0000,DC=example,DC=test',
  });
  directory(`with a lone surrogate in ${member}`, {
    ...directoryBody,
    [member]: 'OU=Staff\ud800,DC=example,DC=test',
  });
}
directory('with an unknown member', { ...directoryBody, changeDetection: 'usn', pollEverything: true });
directory('naming its tenantId in the body', { ...directoryBody, tenantId: randomUUID() });
add('PUT /v1/directory with __proto__ (nothing polluted)', 400, BAD, (f) =>
  raw(
    'PUT',
    '/v1/directory',
    f.a.admin,
    `{${JSON.stringify(directoryBody).slice(1, -1)}, "__proto__": {"changeDetection": "usn"}}`,
  ),
);

// ---- Ids in paths: not UUIDs, traversal, injection ----
const idPath = (
  name: string,
  status: number,
  slug: string,
  method: string,
  path: (f: Fixture) => string,
  as: 'admin' | 'alice' = 'admin',
) =>
  add(`${method} ${name}`, status, slug, (f) => ({
    method,
    path: path(f),
    token: as === 'admin' ? f.a.admin : f.a.alice.token,
  }));
idPath('/v1/users/not-a-uuid', 400, 'bad-request', 'GET', () => '/v1/users/not-a-uuid');
idPath('/v1/users/<SQL>', 400, 'bad-request', 'GET', () => `/v1/users/${encodeURIComponent("' OR 1=1 --")}`);
idPath('/v1/users/<LDAP filter>', 400, 'bad-request', 'GET', () => '/v1/users/*)(uid=*');
idPath('/v1/users/..%2F..%2Ftenant', 400, 'bad-request', 'GET', () => '/v1/users/..%2F..%2Ftenant');
idPath(
  '/v1/users/%2e%2e%2f%2e%2e%2ftenant',
  400,
  'bad-request',
  'GET',
  () => '/v1/users/%2e%2e%2f%2e%2e%2ftenant',
);
idPath(
  '/v1/users/../tenant (not normalised into /v1/tenant)',
  404,
  'not-found',
  'GET',
  () => '/v1/users/../tenant',
);
idPath('/v1/users/../../v1/tenant', 404, 'not-found', 'GET', () => '/v1/users/../../v1/tenant');
idPath('/v1/users/%00', 400, 'bad-request', 'GET', () => '/v1/users/%00');
idPath('/v1/users/{uuid} in braces', 400, 'bad-request', 'GET', (f) => `/v1/users/%7B${f.a.alice.userId}%7D`);
idPath('/v1/users/<uuid>x', 400, 'bad-request', 'GET', (f) => `/v1/users/${f.a.alice.userId}x`);
idPath(
  '/v1/users/<uuid without dashes>',
  400,
  'bad-request',
  'GET',
  (f) => `/v1/users/${f.a.alice.userId.replace(/-/g, '')}`,
);
idPath('/v1/users/<5,000 characters>', 400, 'bad-request', 'GET', () => `/v1/users/${'a'.repeat(5000)}`);
idPath('/v1/users/not-a-uuid/disable', 400, 'bad-request', 'POST', () => '/v1/users/not-a-uuid/disable');
idPath(
  '/v1/users/<unknown>/disable',
  404,
  'user.not-found',
  'POST',
  () => `/v1/users/${randomUUID()}/disable`,
);
idPath(
  '/v1/users/<nil uuid>',
  404,
  'user.not-found',
  'DELETE',
  () => '/v1/users/00000000-0000-0000-0000-000000000000',
);
idPath('/v1/users/../../tenant', 404, 'not-found', 'DELETE', () => '/v1/users/../../tenant');
idPath(
  '/v1/users/:userId/app-passwords/not-a-uuid',
  400,
  'bad-request',
  'DELETE',
  (f) => `/v1/users/${f.a.alice.userId}/app-passwords/not-a-uuid`,
);
idPath(
  '/v1/users/:userId/app-passwords/<unknown>',
  404,
  'app-password.not-found',
  'DELETE',
  (f) => `/v1/users/${f.a.alice.userId}/app-passwords/${randomUUID()}`,
);
idPath(
  '/v1/me/app-passwords/..%2F..%2Fusers',
  400,
  'bad-request',
  'DELETE',
  () => '/v1/me/app-passwords/..%2F..%2Fusers',
  'alice',
);
idPath(
  '/v1/me/app-passwords/<SQL>',
  400,
  'bad-request',
  'DELETE',
  () => `/v1/me/app-passwords/${encodeURIComponent("1' OR '1'='1")}`,
  'alice',
);
idPath(
  '/v1/me/app-passwords/<unknown>',
  404,
  'app-password.not-found',
  'DELETE',
  () => `/v1/me/app-passwords/${randomUUID()}`,
  'alice',
);
idPath(
  '/v1/me/app-passwords/<another tenant’s user id>',
  404,
  'app-password.not-found',
  'DELETE',
  (f) => `/v1/me/app-passwords/${f.b.userId}`,
  'alice',
);

// ---- POST /v1/me/app-passwords: names (R6), scopes (B11), chosen secrets (R2) ----
const create = (name: string, status: number, slug: string, body: unknown) =>
  add(name, status, slug, (f) => json('POST', '/v1/me/app-passwords', f.a.alice.token, body));
create('create without a name', 400, BAD, {});
create('create with a numeric name', 400, BAD, { name: 5 });
create('create with a null name', 400, BAD, { name: null });
create('create with an object name', 400, BAD, { name: { en: 'Tablet' } });
create('create with an array name', 400, BAD, { name: ['Tablet'] });
create('create with a 257-character name', 400, BAD, { name: 'x'.repeat(257) });
create('R6: a 65-character name', 422, 'R6.name-too-long', { name: 'x'.repeat(65) });
create('R6: an empty name', 422, 'R6.name-required', { name: '' });
create('R6: a blank name', 422, 'R6.name-required', { name: ' \t ' });
create('R6: a name with a right-to-left override', 422, 'R6.name-invalid-characters', {
  name: '\u202Epot\u202Cpal',
});
create('R6: a name with a zero-width space', 422, 'R6.name-invalid-characters', { name: 'Lap\u200Btop' });
create('R6: a name with NUL', 422, 'R6.name-invalid-characters', { name: 'Lap\u0000top' });
create('R6: a name with a byte-order mark', 422, 'R6.name-invalid-characters', { name: '\uFEFFTablet' });
create('R6: a name with a newline', 422, 'R6.name-invalid-characters', { name: 'Tab\nlet' });
create('R6: a name with a line separator', 422, 'R6.name-invalid-characters', { name: 'Tab\u2028let' });
create('R6: a name with an Arabic letter mark', 422, 'R6.name-invalid-characters', { name: 'Tab\u061Clet' });
create('R6: a name with an escape sequence', 422, 'R6.name-invalid-characters', { name: 'Tab\u001b[2Jlet' });
add('R6: a name with an unpaired surrogate', 422, 'R6.name-invalid-characters', (f) =>
  raw('POST', '/v1/me/app-passwords', f.a.alice.token, '{"name": "Tab\\udc00let"}'),
);
create('R6: an existing name with a Cyrillic look-alike letter', 422, 'R6.name-mixed-scripts', {
  name: 'L\u0430ptop',
});
create('R6: an existing name in full-width letters', 409, 'R6.name-taken', { name: 'ＬＡＰＴＯＰ' });
create('R6: an existing name in capitals', 409, 'R6.name-taken', { name: 'LAPTOP' });
create('R6: an existing name with extra spaces', 409, 'R6.name-taken', { name: '  laptop  ' });
create('B11: protocols as a string', 400, BAD, { name: 'Tablet', protocols: 'IMAP' });
create('B11: an unknown protocol', 422, 'B11.unknown-protocol', { name: 'Tablet', protocols: ['gopher'] });
create('B11: an administrative protocol', 422, 'B11.unknown-protocol', {
  name: 'Tablet',
  protocols: ['POWERSHELL'],
});
create('B11: SQL for a protocol', 422, 'B11.unknown-protocol', {
  name: 'Tablet',
  protocols: ["IMAP' OR 1=1 --"],
});
create('B11: a numeric protocol', 400, BAD, { name: 'Tablet', protocols: [1] });
create('B11: a null protocol', 400, BAD, { name: 'Tablet', protocols: [null] });
create('B11: fifteen protocols', 400, BAD, { name: 'Tablet', protocols: Array(15).fill('IMAP') });
create('B11: a 33-character protocol', 400, BAD, { name: 'Tablet', protocols: ['x'.repeat(33)] });
create('R2: a password chosen by the user', 400, BAD, { name: 'Tablet', password: 'hunter2hunter2' });
create('create choosing its appPasswordId', 400, BAD, { name: 'Tablet', appPasswordId: randomUUID() });
create('create for another user id', 400, BAD, { name: 'Tablet', userId: randomUUID() });
create('B7: create choosing its own expiry', 400, BAD, { name: 'Tablet', expiresAt: '2999-01-01T00:00:00Z' });
add('create with __proto__', 400, BAD, (f) =>
  raw(
    'POST',
    '/v1/me/app-passwords',
    f.a.alice.token,
    '{"name": "Tablet", "__proto__": {"protocols": ["IMAP"]}}',
  ),
);

// ---- POST /v1/sign-ins/verify: shapes, client IPs, protocols, actions ----
const verify = (name: string, change: (valid: Record<string, unknown>) => unknown) =>
  add(`verify ${name}`, 400, BAD, (f) => {
    const valid = {
      username: f.a.alice.username,
      password: f.a.laptop.password,
      protocol: 'IMAP',
      clientIp: '192.0.2.1',
    };
    return json('POST', '/v1/sign-ins/verify', f.a.gateway, change(valid));
  });
const without = (key: string) => (valid: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key));
const withValue = (key: string, value: unknown) => (valid: Record<string, unknown>) => ({
  ...valid,
  [key]: value,
});
verify('with an empty body', () => ({}));
for (const key of ['username', 'password', 'protocol', 'clientIp']) verify(`without ${key}`, without(key));
verify('with a numeric username', withValue('username', 5));
verify('with an object username', withValue('username', {}));
verify('with a null password', withValue('password', null));
verify('with an array password', withValue('password', ['x']));
// An over-long username or password is what a client typed: a failed sign-in, recorded (R9, below).
for (const clientIp of [
  '256.0.0.1',
  '1.2.3',
  '::gg',
  '',
  'localhost',
  '1.2.3.4/24',
  '1.2.3.4:143',
  ' 1.2.3.4',
  "' OR 1=1 --",
  '*)(uid=*',
  '1.2.3.4\u0000',
  'fe80::1%eth0',
  1234,
  null,
  ['192.0.2.1'],
]) {
  verify(`with clientIp ${JSON.stringify(clientIp)}`, withValue('clientIp', clientIp));
}
// Unknown protocols were answered 200 as a failed sign-in (and recorded); NUL in one was a 500.
for (const protocol of [
  'gopher',
  '',
  'IMAP\u0000',
  "IMAP' OR 1=1 --",
  '*)(uid=*',
  'x'.repeat(33),
  ['IMAP'],
  null,
]) {
  verify(`with protocol ${JSON.stringify(protocol).slice(0, 40)}`, withValue('protocol', protocol));
}
for (const action of ['delete', 'ADMINISTRATIVE', ['administrative'], null]) {
  verify(`with action ${JSON.stringify(action)}`, withValue('action', action));
}
verify('naming a tenantId', withValue('tenantId', randomUUID()));
verify('naming an appPasswordId', withValue('appPasswordId', randomUUID()));
verify('claiming allowed: true', withValue('allowed', true));
add('verify with __proto__ claiming allowed', 400, BAD, (f) =>
  raw(
    'POST',
    '/v1/sign-ins/verify',
    f.a.gateway,
    JSON.stringify({
      username: f.a.alice.username,
      password: 'x',
      protocol: 'IMAP',
      clientIp: '192.0.2.1',
    }).replace(/^\{/, '{"__proto__": {"allowed": true}, '),
  ),
);
add('verify with the body inside an array', 400, BAD, (f) =>
  raw(
    'POST',
    '/v1/sign-ins/verify',
    f.a.gateway,
    JSON.stringify([
      { username: f.a.alice.username, password: 'x', protocol: 'IMAP', clientIp: '192.0.2.1' },
    ]),
  ),
);

// ---- POST /v1/leak-reports (public; at most 10 of these reach its rate limit) ----
const leak = (name: string, body: unknown) =>
  add(`leak report ${name}`, 400, BAD, () => ({ method: 'POST', path: '/v1/leak-reports', json: body }));
leak('without text', {});
leak('with empty text', { text: '' });
leak('with numeric text', { text: 5 });
leak('with an array of texts', { text: ['x'] });
leak('with text over 12 kB', { text: 'x'.repeat(12 * 1024 + 1) });
leak('with a numeric source', { text: 'x', source: 5 });
leak('with an unknown member', { text: 'x', url: 'https://paste.example/' });
leak('with NUL in the source (regression: was a 500)', { text: 'x', source: 'https://paste.example/\u0000' });
add('leak report with an unpaired surrogate in the source (regression: was a 500)', 400, BAD, () =>
  raw('POST', '/v1/leak-reports', undefined, '{"text": "x", "source": "https://paste.example/\\ud800"}'),
);
add('leak report as text/plain', 415, 'unsupported-media-type', () =>
  raw('POST', '/v1/leak-reports', undefined, 'lkab cdef', 'text/plain'),
);
add('leak report of 17 kB', 413, 'payload-too-large', () =>
  raw('POST', '/v1/leak-reports', undefined, JSON.stringify({ text: 'x'.repeat(17 * 1024) })),
);

// ---- GET /v1/sign-in-activity: query parameters ----
for (const [name, query] of [
  ['NUL for a username (regression: was a 500)', 'username=%00'],
  ['NUL inside a username (regression: was a 500)', 'username=al%00ice%40contoso.test'],
  ['a 400-character username', `username=${'x'.repeat(400)}`],
  ['the username twice', 'username=a&username=b'],
  ['days=0', 'days=0'],
  ['days=91', 'days=91'],
  ['days=-1', 'days=-1'],
  ['days=7.5', 'days=7.5'],
  ['days=abc', 'days=abc'],
  ['days=1e309', 'days=1e309'],
  ['days as an array', 'days[]=1'],
  ['a tenantId (the tenant comes from the token)', `tenantId=${randomUUID()}`],
  ['__proto__', '__proto__[isAdmin]=1'],
]) {
  add(`sign-in activity with ${name}`, 400, BAD, (f) => ({
    path: `/v1/sign-in-activity?${query}`,
    token: f.a.admin,
  }));
}

// Finding a user by name needs the name.
add('GET /v1/users without a username', 400, BAD, (f) => ({ path: '/v1/users', token: f.a.admin }));
add('GET /v1/users with an unknown parameter', 400, BAD, (f) => ({
  path: '/v1/users?username=a%40b.test&admin=1',
  token: f.a.admin,
}));

// ---- GET /v1/users/page: limit, prefix and cursor (the tenant is the token's) ----
const usersCursor = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
for (const [name, query, slug] of [
  ['limit=0', 'limit=0', BAD],
  ['limit=201', 'limit=201', BAD],
  ['limit=-1', 'limit=-1', BAD],
  ['limit=1e2', 'limit=1e2', BAD],
  ['limit=abc', 'limit=abc', BAD],
  ['a huge limit', 'limit=100000000000000000000000', BAD],
  ['limit as an array', 'limit[]=1', BAD],
  ['limit twice', 'limit=1&limit=2', BAD],
  ['an empty prefix', 'prefix=', BAD],
  ['a 400-character prefix', `prefix=${'x'.repeat(400)}`, BAD],
  ['a NUL in the prefix (regression guard: NUL in text is a 500 in PostgreSQL)', 'prefix=a%00b', BAD],
  ['the prefix twice', 'prefix=a&prefix=b', BAD],
  ['the prefix as an object', 'prefix[$ne]=x', BAD],
  ['an unknown parameter', 'username=a%40b.test', BAD],
  ['a tenantId (the tenant comes from the token)', `tenantId=${randomUUID()}`, BAD],
  ['a cursor that is not base64', 'cursor=%25%00%27', 'invalid-cursor'],
  ['a cursor of base64 garbage', 'cursor=bm90LWEtY3Vyc29y', 'invalid-cursor'],
  [
    'a forged cursor naming a tenant',
    `cursor=${usersCursor({ v: 1, after: 'a', p: '', tenantId: randomUUID() })}`,
    'invalid-cursor',
  ],
  [
    'a forged cursor with a NUL',
    `cursor=${usersCursor({ v: 1, after: 'a\u0000', p: '' })}`,
    'invalid-cursor',
  ],
  ['a forged cursor with a number', `cursor=${usersCursor({ v: 1, after: 1, p: '' })}`, 'invalid-cursor'],
  [
    'a cursor replayed with another prefix',
    `prefix=b&cursor=${usersCursor({ v: 1, after: 'a', p: 'a' })}`,
    'invalid-cursor',
  ],
  ['an over-long cursor', `cursor=${'A'.repeat(5000)}`, BAD],
]) {
  add(`users page with ${name}`, 400, slug, (f) => ({ path: `/v1/users/page?${query}`, token: f.a.admin }));
}

// ---- The auditor's history: cursor, dates, limits, filters (the tenant is the token's) ----
const auditorOf = (tenantId: string) => mintToken({ tenantId, sub: 'auditor', roles: ['auditor'] });
const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
for (const [name, query, slug] of [
  ['a cursor that is not base64', 'cursor=%25%00%27', 'invalid-cursor'],
  ['a cursor of base64 garbage', 'cursor=bm90LWEtY3Vyc29y', 'invalid-cursor'],
  [
    'a forged cursor with SQL',
    `cursor=${forge({ v: 1, after: '1; DROP TABLE events', f: 'x' })}`,
    'invalid-cursor',
  ],
  [
    'a forged cursor past bigint',
    `cursor=${forge({ v: 1, after: '99999999999999999999', f: 'x' })}`,
    'invalid-cursor',
  ],
  [
    'a forged cursor naming a tenant',
    `cursor=${forge({ v: 1, after: '0', f: 'x', tenantId: randomUUID() })}`,
    'invalid-cursor',
  ],
  ['an over-long cursor', `cursor=${'A'.repeat(5000)}`, BAD],
  ['a huge limit', 'limit=100000000000000000000000', BAD],
  ['limit=1001', 'limit=1001', BAD],
  ['limit=0', 'limit=0', BAD],
  ['limit=-5', 'limit=-5', BAD],
  ['limit=1e3', 'limit=1e3', BAD],
  ['limit as an array', 'limit[]=1', BAD],
  ['from that is not a date', 'from=yesterday', BAD],
  ['from without an offset', 'from=2025-03-03T14:02:00', BAD],
  ['from on 30 February', 'from=2025-02-30T00:00:00Z', BAD],
  ['to before from', 'from=2025-03-03T15:00:00Z&to=2025-03-03T14:00:00Z', BAD],
  ['to as an epoch number', 'to=1741010520000', BAD],
  ['from in year 0 (PostgreSQL has no year 0)', 'from=0000-06-01T00:00:00Z', BAD],
  ['from in year -1 by its offset', 'from=0000-01-01T00:00:00%2B01:00', BAD],
  ['to in year 10000 by its offset', 'to=9999-12-31T23:30:00-01:00', BAD],
  ['a userId with SQL', `userId=${encodeURIComponent("' OR '1'='1")}`, BAD],
  ['a userId that is a stream id', `userId=user-${randomUUID()}`, BAD],
  ['a type with SQL', `type=${encodeURIComponent("UserDisabled' OR 1=1 --")}`, BAD],
  ['a type with a NUL', 'type=User%00Disabled', BAD],
  ['21 types', `type=${Array.from({ length: 21 }, (_, i) => `T${i}`).join(',')}`, BAD],
  ['a streamId with SQL and spaces', `streamId=${encodeURIComponent("x'; DROP TABLE events; --")}`, BAD],
  ['a streamId with a newline', 'streamId=user-1%0Ainjected', BAD],
  ['a tenantId (the tenant comes from the token)', `tenantId=${randomUUID()}`, BAD],
  ['__proto__', '__proto__[x]=1', BAD],
] as const) {
  for (const route of ['/v1/audit/events', '/v1/audit/events/export']) {
    // The export takes no page parameters: a cursor or limit there is refused as unknown.
    const expected = route.endsWith('export') && /^(cursor|limit)/.test(query) ? BAD : slug;
    add(`GET ${route} with ${name}`, 400, expected, async (f) => ({
      path: `${route}?${query}`,
      token: await auditorOf(f.a.tenantId),
    }));
  }
}

// ---- B4: point in time (auditor): instants, ids, protocols, client IPs, other tenants ----
const pitAuditor = (tenantId: string) => mintToken({ tenantId, sub: 'auditor', roles: ['auditor'] });
const PIT_AT = 'at=2025-03-03T14:02:00Z';
const pitState = (f: Fixture, query: string, userId = f.a.alice.userId) =>
  `/v1/audit/users/${userId}/state?${query}`;
const pitCheck = (f: Fixture, query: string, ids: { userId?: string; appPasswordId?: string } = {}) =>
  `/v1/audit/users/${ids.userId ?? f.a.alice.userId}/app-passwords/${ids.appPasswordId ?? f.a.laptop.appPasswordId}/sign-in-check?${query}`;
const pit = (name: string, status: number, slug: string, path: (f: Fixture) => string) =>
  add(`B4: ${name}`, status, slug, async (f) => ({ path: path(f), token: await pitAuditor(f.a.tenantId) }));
for (const [name, query] of [
  ['without an instant', ''],
  ['an instant that is not a date', 'at=yesterday'],
  ['an instant without an offset', 'at=2025-03-03T14:02:00'],
  ['an instant whose + offset was not encoded', 'at=2025-03-03T14:02:00+01:00'],
  ['an instant on 30 February', 'at=2025-02-30T14:02:00Z'],
  ['an instant at hour 25', 'at=2025-03-03T25:02:00Z'],
  ['an epoch number', 'at=1741010520000'],
  ['a date without a time', 'at=2025-03-03'],
  ['an instant with SQL', `at=${encodeURIComponent("2025-03-03T14:02:00Z' OR 1=1 --")}`],
  ['an instant with NUL', 'at=2025-03-03T14:02:00Z%00'],
  ['two instants', `${PIT_AT}&at=2025-03-04T14:02:00Z`],
  ['an instant as an array', 'at[]=2025-03-03T14:02:00Z'],
  ['a year with six digits', 'at=%2B275760-09-13T00:00:00Z'],
  ['an instant in year 0', 'at=0000-06-01T00:00:00Z'],
  ['an instant in year 10000 by its offset', 'at=9999-12-31T23:30:00-01:00'],
  ['a tenantId (the tenant comes from the token)', `${PIT_AT}&tenantId=${randomUUID()}`],
  ['__proto__', `${PIT_AT}&__proto__[x]=1`],
] as const) {
  pit(`state with ${name}`, 400, BAD, (f) => pitState(f, query));
  pit(`sign-in check with ${name}`, 400, BAD, (f) => pitCheck(f, `${query}&protocol=IMAP`));
}
for (const protocol of ['gopher', '', 'IMAP%00', encodeURIComponent("IMAP' OR 1=1 --"), 'x'.repeat(33)]) {
  pit(`sign-in check with protocol "${protocol.slice(0, 20)}"`, 400, BAD, (f) =>
    pitCheck(f, `${PIT_AT}&protocol=${protocol}`),
  );
}
pit('sign-in check without a protocol', 400, BAD, (f) => pitCheck(f, PIT_AT));
pit('sign-in check with two protocols', 400, BAD, (f) =>
  pitCheck(f, `${PIT_AT}&protocol=IMAP&protocol=SMTP`),
);
for (const clientIp of [
  '256.0.0.1',
  '1.2.3',
  '::gg',
  '',
  'localhost',
  '1.2.3.4/24',
  '1.2.3.4:143',
  "' OR 1=1 --",
]) {
  pit(`sign-in check with clientIp "${clientIp}"`, 400, BAD, (f) =>
    pitCheck(f, `${PIT_AT}&protocol=IMAP&clientIp=${encodeURIComponent(clientIp)}`),
  );
}
for (const [name, id] of [
  ['not a UUID', 'not-a-uuid'],
  ['SQL', encodeURIComponent("' OR 1=1 --")],
  ['..%2F..%2Ftenant', '..%2F..%2Ftenant'],
  ['a UUID without dashes', 'd'.repeat(32)],
  ['5,000 characters', 'a'.repeat(5000)],
] as const) {
  pit(`state of a user id that is ${name}`, 400, 'bad-request', (f) => pitState(f, PIT_AT, id));
  pit(`sign-in check of a user id that is ${name}`, 400, 'bad-request', (f) =>
    pitCheck(f, `${PIT_AT}&protocol=IMAP`, { userId: id }),
  );
  pit(`sign-in check of an app password id that is ${name}`, 400, 'bad-request', (f) =>
    pitCheck(f, `${PIT_AT}&protocol=IMAP`, { appPasswordId: id }),
  );
}
pit('state of an unknown user', 404, 'user.not-found', (f) => pitState(f, PIT_AT, randomUUID()));
pit('state of another tenant’s user', 404, 'user.not-found', (f) => pitState(f, PIT_AT, f.b.userId));
pit('sign-in check of another tenant’s user', 404, 'user.not-found', (f) =>
  pitCheck(f, `${PIT_AT}&protocol=IMAP`, { userId: f.b.userId }),
);
pit('sign-in check of an unknown app password', 404, 'app-password.not-found', (f) =>
  pitCheck(f, `${PIT_AT}&protocol=IMAP`, { appPasswordId: randomUUID() }),
);
pit('sign-in check of a user id used as an app password id', 404, 'app-password.not-found', (f) =>
  pitCheck(f, `${PIT_AT}&protocol=IMAP`, { appPasswordId: f.a.alice.userId }),
);
add('B4: state asked by an auditor of another tenant, with real ids', 404, 'user.not-found', async (f) => ({
  path: pitState(f, PIT_AT),
  token: await pitAuditor(f.b.tenantId),
}));
add(
  'B4: sign-in check asked by an auditor of a tenant that does not exist',
  404,
  'user.not-found',
  async (f) => ({
    path: pitCheck(f, `${PIT_AT}&protocol=IMAP`),
    token: await pitAuditor(f.z.tenantId),
  }),
);

// ---- B3: chain verification (auditor): positions and anchors (the tenant is the token's) ----
for (const [name, query] of [
  ['fromSeq=0', 'fromSeq=0'],
  ['fromSeq=-1', 'fromSeq=-1'],
  ['fromSeq=1.5', 'fromSeq=1.5'],
  ['fromSeq past 64 bits', `fromSeq=${'9'.repeat(30)}`],
  ['fromSeq with SQL', `fromSeq=${encodeURIComponent('1; DELETE FROM event_chain')}`],
  ['fromSeq twice', 'fromSeq=1&fromSeq=2'],
  ['an anchor without a link', 'anchor=5'],
  ['an anchor with a short link', `anchor=5:${'a'.repeat(63)}`],
  ['an anchor with a non-hex link', `anchor=5:${'g'.repeat(64)}`],
  ['an anchor at seq 0', `anchor=0:${'a'.repeat(64)}`],
  ['an anchor with a NUL', `anchor=5:${'a'.repeat(32)}%00${'a'.repeat(31)}`],
  ['a tenantId (the tenant comes from the token)', `tenantId=${randomUUID()}`],
  ['__proto__', '__proto__[x]=1'],
] as const) {
  add(`B3: GET /v1/audit/chain/verify with ${name}`, 400, BAD, async (f) => ({
    path: `/v1/audit/chain/verify?${query}`,
    token: await auditorOf(f.a.tenantId),
  }));
}

// ---- B5: counterfactual replay (auditor): instants, period, delay model (the tenant is the token's) ----
const CF_FROM = '2025-03-01T00:00:00Z';
const CF_TO = '2025-03-02T00:00:00Z';
for (const [name, body] of [
  ['a rolled-over instant', { from: '2025-02-30T00:00:00Z', to: CF_TO, model: { kind: 'worst-case' } }],
  ['an instant without offset', { from: '2025-03-01T00:00:00', to: CF_TO, model: { kind: 'worst-case' } }],
  ['from equal to to', { from: CF_FROM, to: CF_FROM, model: { kind: 'worst-case' } }],
  [
    'instants in year 0',
    { from: '0000-06-01T00:00:00Z', to: '0000-06-02T00:00:00Z', model: { kind: 'worst-case' } },
  ],
  ['from after to', { from: CF_TO, to: CF_FROM, model: { kind: 'worst-case' } }],
  ['a period of a year', { from: CF_FROM, to: '2026-03-01T00:00:00Z', model: { kind: 'worst-case' } }],
  ['an unknown model kind', { from: CF_FROM, to: CF_TO, model: { kind: 'instant' } }],
  ['a negative delay', { from: CF_FROM, to: CF_TO, model: { kind: 'fixed', delayMs: -1 } }],
  ['a delay over a week', { from: CF_FROM, to: CF_TO, model: { kind: 'fixed', delayMs: 8 * 86_400_000 } }],
  ['a model as a string', { from: CF_FROM, to: CF_TO, model: 'fixed' }],
  ['no model', { from: CF_FROM, to: CF_TO }],
  [
    'a tenantId (the tenant comes from the token)',
    { from: CF_FROM, to: CF_TO, model: { kind: 'worst-case' }, tenantId: randomUUID() },
  ],
] as const) {
  add(`B5: POST /v1/audit/counterfactual with ${name}`, 400, BAD, async (f) =>
    json('POST', '/v1/audit/counterfactual', await auditorOf(f.a.tenantId), body),
  );
}
add('B5: POST /v1/audit/counterfactual with a model that is not JSON', 400, MALFORMED, async (f) =>
  raw(
    'POST',
    '/v1/audit/counterfactual',
    await auditorOf(f.a.tenantId),
    '{"from": "2025-03-01T00:00:00Z", "model": {',
  ),
);

// ---- Methods and routes that do not exist ----
for (const [method, path] of [
  ['PUT', '/v1/tenant'],
  ['DELETE', '/v1/tenant'],
  ['PUT', '/v1/users'],
  ['GET', '/v1/sign-ins/verify'],
  ['POST', '/v1/me/app-passwords/all'],
]) {
  add(`${method} ${path} (no such route)`, 404, 'not-found', (f) => ({ method, path, token: f.a.admin }));
}
add('PATCH /v1/users/:userId (no such route)', 404, 'not-found', (f) =>
  json('PATCH', `/v1/users/${f.a.alice.userId}`, f.a.admin, { roles: ['tenant-admin'] }),
);

/** Rows that the tenants involved own, table by table: what "nothing half-written" compares. */
async function rowsOfTestTenants(): Promise<Record<string, number>> {
  const tenants = [f.a.tenantId, f.b.tenantId, f.z.tenantId];
  const counts: Record<string, number> = {};
  for (const table of ['events', 'streams', 'tenants', 'accounts', 'credentials', 'sign_in_lockouts']) {
    const [row] = await db.query(
      `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = ANY($1::uuid[])`,
      [tenants],
    );
    counts[table] = row.n;
  }
  const [usage] = await db.query(
    `SELECT count(*)::int AS n FROM credential_usage u JOIN credentials c USING (app_password_id) WHERE c.tenant_id = ANY($1::uuid[])`,
    [tenants],
  );
  counts.credential_usage = usage.n;
  return counts;
}

describe('hostile and malformed requests', () => {
  let rowsBefore: Record<string, number>;
  const stateBefore: Record<string, string> = {};

  async function visibleState() {
    return {
      tenant: (await api.get('/v1/tenant', f.a.admin)).text,
      alice: (await api.get(`/v1/users/${f.a.alice.userId}`, f.a.admin)).text,
      appPasswords: (await api.get('/v1/me/app-passwords', f.a.alice.token)).text,
    };
  }

  beforeAll(async () => {
    ({ api, stop } = await startApi(PORT));
    db = await new DataSource({
      ...dataSourceOptions(parseConfig(process.env)),
      extra: { max: 1 },
    }).initialize();

    const a = { tenantId: randomUUID(), admin: '', gateway: '' };
    a.admin = await mintToken({ tenantId: a.tenantId, sub: 'admin', roles: ['tenant-admin'] });
    a.gateway = await mintToken({ tenantId: a.tenantId, sub: 'gateway', roles: ['gateway'] });
    expect(
      (await api.post('/v1/tenant', a.admin, { name: 'Contoso', policy: { appPasswordsAllowed: true } }))
        .status,
    ).toBe(201);
    const username = `alice@${a.tenantId.slice(0, 8)}.contoso.test`;
    const provisioned = await api.post('/v1/users', a.admin, { username, mfa: 'enforced' });
    const userId: string = provisioned.body.userId;
    const token = await mintToken({ tenantId: a.tenantId, sub: userId, roles: ['user'], mfa: true });
    expect((await api.post('/v1/me/mfa-registration', token)).status).toBe(200);
    const laptop = await api.post('/v1/me/app-passwords', token, { name: 'Laptop' });
    expect(laptop.status).toBe(201);

    const b = { tenantId: randomUUID(), admin: '', userId: '' };
    b.admin = await mintToken({ tenantId: b.tenantId, sub: 'admin', roles: ['tenant-admin'] });
    expect((await api.post('/v1/tenant', b.admin, { name: 'Fabrikam' })).status).toBe(201);
    b.userId = (
      await api.post('/v1/users', b.admin, { username: `bob@${b.tenantId.slice(0, 8)}.fabrikam.test` })
    ).body.userId;

    const z = { tenantId: randomUUID(), admin: '' };
    z.admin = await mintToken({ tenantId: z.tenantId, sub: 'admin', roles: ['tenant-admin'] });

    const claims = (roles: ('tenant-admin' | 'gateway' | 'user')[], sub: string) => ({
      tenantId: a.tenantId,
      sub,
      roles,
      mfa: true,
    });
    const hostileUser = await hostileTokens(claims(['user'], userId));
    // A UUID subject in capitals is the same user (UUIDs are case-insensitive, the verifier lower-cases
    // them); in braces, as Windows formats a GUID, it is not a user id at all.
    for (const sub of ['../admin', "' OR 1=1 --", '*)(uid=*', '{ALICE}']) {
      hostileUser[`sub:${sub}`] = await mintToken({
        tenantId: a.tenantId,
        sub: sub === '{ALICE}' ? `{${userId.toUpperCase()}}` : sub,
        roles: ['user'],
        mfa: true,
      });
    }
    f = {
      a: {
        ...a,
        alice: {
          userId,
          username,
          token,
          tokenWithoutMfa: await mintToken({ tenantId: a.tenantId, sub: userId, roles: ['user'] }),
        },
        laptop: { appPasswordId: laptop.body.appPasswordId, password: laptop.body.password },
      },
      b,
      z,
      hostile: {
        admin: await hostileTokens(claims(['tenant-admin'], 'admin')),
        gateway: await hostileTokens(claims(['gateway'], 'gateway')),
        user: hostileUser,
      },
    };
    expect(Object.keys(f.hostile.admin).sort()).toEqual([...HOSTILE_TOKEN_KINDS].sort());

    rowsBefore = await rowsOfTestTenants();
    Object.assign(stateBefore, await visibleState());
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
    stop?.();
  });

  it(`§7 input: the table holds at least 100 hostile requests (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  for (const hostile of cases) {
    const label = /^(R|B)\d+:/.test(hostile.name) ? hostile.name : `§7 input: ${hostile.name}`;
    it(`${label} → ${hostile.status} problem+json`, async () => {
      const response = await api.send(await hostile.build(f));
      expect(response.status).toBeLessThan(500);
      expectProblem(response, hostile.status, hostile.slug);
      expect(response.body.title).toEqual(expect.any(String));
    });
  }

  it('§7 input: bytes that are not HTTP at all get a 400 problem+json too, not a bare status line (regression)', async () => {
    for (const garbage of [
      'HELLO\r\n\r\n',
      'GET /v1/me HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n',
      '\u0000\u0001\u0002\r\n\r\n',
    ]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(PORT, '127.0.0.1', () => socket.end(garbage));
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(head).toMatch(/\r\nContent-Type: application\/problem\+json/i);
      expect(JSON.parse(body)).toMatchObject({
        type: 'https://latchkey.dev/problems/malformed-request',
        status: 400,
      });
    }
  });

  it('§7 input: nothing half-written — the test tenants’ events and read-model rows are exactly as before', async () => {
    expect(await rowsOfTestTenants()).toEqual(rowsBefore);
    expect(await visibleState()).toEqual(stateBefore);
    // The tenant that every refused creation named still does not exist.
    expectProblem(await api.get('/v1/tenant', f.z.admin), 404, 'not-found');
  });

  it('§7 input: the prototype-pollution attempts polluted nothing: new tenants and users get the defaults', async () => {
    const tenantId = randomUUID();
    const admin = await mintToken({ tenantId, sub: 'admin', roles: ['tenant-admin'] });
    const created = await api.post('/v1/tenant', admin, { name: 'Northwind' });
    expect(created.body.policy).toMatchObject({
      appPasswordsAllowed: false,
      legacyAuthBlocked: false,
      maxAppPasswordsPerUser: 40,
    });
    expect(created.body).not.toHaveProperty('isAdmin');
    const user = await api.post('/v1/users', admin, { username: 'eve@northwind.test' });
    expect(user.body.roles).toEqual(['user']);
    expect(user.body).not.toHaveProperty('isAdmin');
  });

  it('R9: hostile usernames that reach verification are a failed sign-in, recorded like any other, never a 5xx (regression: NUL and unpaired surrogates were a 500)', async () => {
    const count = async () =>
      (
        await db.query(
          `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type = 'LegacySignInFailed'`,
          [f.a.tenantId],
        )
      )[0].n as number;
    const before = await count();
    const usernames = [
      "' OR 1=1 --",
      "alice@contoso.test' OR '1'='1",
      '*)(uid=*',
      '*)(|(objectClass=*))',
      'al\u0000ice@contoso.test',
      `${'a'.repeat(255)}\u{1F600}@contoso.test`, // cut at 256 between the two halves of a surrogate pair
      '\u202Eecila@contoso.test',
      '../../etc/passwd',
    ];
    for (const username of usernames) {
      const response = await api.post('/v1/sign-ins/verify', f.a.gateway, {
        username,
        password: f.a.laptop.password,
        protocol: 'IMAP',
        clientIp: '198.51.100.9',
      });
      expect({ username, status: response.status, body: response.body }).toEqual({
        username,
        status: 200,
        body: { allowed: false, reason: 'invalid-credentials', rule: null },
      });
    }
    const surrogate = await api.send(
      raw(
        'POST',
        '/v1/sign-ins/verify',
        f.a.gateway,
        `{"username": "al\\ud800ice@contoso.test", "password": "x", "protocol": "IMAP", "clientIp": "198.51.100.9"}`,
      ),
    );
    expect(surrogate.status).toBe(200);
    expect(surrogate.body).toEqual({ allowed: false, reason: 'invalid-credentials', rule: null });
    expect(await count()).toBe(before + usernames.length + 1);
  });

  it('R9, B8: an over-long username or password is a failed sign-in, recorded and counted like any other, not a 400 (regression: it left no trace)', async () => {
    const attempts = async () =>
      (await db.query(
        `SELECT data->>'username' AS username, data->>'userId' AS "userId", data->>'reason' AS reason
         FROM events WHERE tenant_id = $1 AND type = 'LegacySignInFailed' AND data->>'clientIp' = '198.51.100.77'
         ORDER BY seq`,
        [f.a.tenantId],
      )) as { username: string; userId: string | null; reason: string }[];
    const failuresOfAlice = async () =>
      (
        await db.query(`SELECT state FROM sign_in_lockouts WHERE tenant_id = $1 AND username = $2`, [
          f.a.tenantId,
          f.a.alice.username,
        ])
      )[0]?.state as unknown;
    const lockoutBefore = JSON.stringify(await failuresOfAlice());
    const tried = [
      { username: 'x'.repeat(321), password: f.a.laptop.password },
      { username: `${'y'.repeat(9_000)}@contoso.test`, password: f.a.laptop.password },
      { username: f.a.alice.username, password: 'z'.repeat(257) },
      { username: f.a.alice.username, password: 'z'.repeat(12_000) },
    ];
    for (const body of tried) {
      const response = await api.post('/v1/sign-ins/verify', f.a.gateway, {
        ...body,
        protocol: 'IMAP',
        clientIp: '198.51.100.77',
      });
      expect({ status: response.status, body: response.body }).toEqual({
        status: 200,
        body: { allowed: false, reason: 'invalid-credentials', rule: null },
      });
    }
    // Each recorded once, names cut to what the history keeps, the wrong passwords under Alice.
    expect(await attempts()).toEqual([
      { username: 'x'.repeat(256), userId: null, reason: 'invalid-credentials' },
      { username: 'y'.repeat(256), userId: null, reason: 'invalid-credentials' },
      { username: f.a.alice.username, userId: f.a.alice.userId, reason: 'invalid-credentials' },
      { username: f.a.alice.username, userId: f.a.alice.userId, reason: 'invalid-credentials' },
    ]);
    // Smart lockout saw Alice's two failures.
    expect(JSON.stringify(await failuresOfAlice())).not.toBe(lockoutBefore);
  });

  it('§7 input: SQL and LDAP metacharacters in otherwise valid values are stored and shown verbatim', async () => {
    const name = "Robert'); DROP TABLE credentials;--";
    const created = await api.post('/v1/me/app-passwords', f.a.alice.token, { name });
    expect(created.status).toBe(201);
    const listed = (await api.get('/v1/me/app-passwords', f.a.alice.token)).body as { name: string }[];
    expect(listed.map((p) => p.name)).toContain(name);

    const username = `o'brien+*)(uid=*)@${f.a.tenantId.slice(0, 8)}.contoso.test`;
    const provisioned = await api.post('/v1/users', f.a.admin, { username });
    expect(provisioned.status).toBe(201);
    expect((await api.get(`/v1/users/${provisioned.body.userId}`, f.a.admin)).body.username).toBe(username);
    // The users page takes SQL, LDAP and LIKE metacharacters in a prefix as text: only this user starts so.
    for (const prefix of ["o'brien+*)(", "o'brien+*)(uid=*)@"]) {
      const page = await api.get(`/v1/users/page?prefix=${encodeURIComponent(prefix)}`, f.a.admin);
      expect(page.body).toEqual({ items: [expect.objectContaining({ username })], next: null });
    }
    for (const prefix of ['%', '_', "' OR '1'='1", '\\']) {
      const page = await api.get(`/v1/users/page?prefix=${encodeURIComponent(prefix)}`, f.a.admin);
      expect(page.body).toEqual({ items: [], next: null });
    }
    const verdict = await api.post('/v1/sign-ins/verify', f.a.gateway, {
      username,
      password: created.body.password,
      protocol: 'IMAP',
      clientIp: '198.51.100.9',
    });
    expect(verdict.body).toEqual({ allowed: false, reason: 'invalid-credentials', rule: null });
  });

  afterAll(() => {
    expect(
      api.responses
        .filter((response) => response.status >= 500)
        .map((r) => `${r.request.method} ${r.request.path} ${r.text}`),
    ).toEqual([]);
  });
});
