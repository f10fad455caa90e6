// Signing in to the console with OpenID Connect: the authorization-code flow with PKCE, against a real
// issuer (panva's oidc-provider, test/console/oidc-issuer.mjs), in Debian's Chromium. The API trusts
// only that issuer's key set here; the token the console obtains is the one it then uses for the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ApiClient } from '../api-client';
import { startAppAndWait, waitForHttp, type RunningApp } from '../app-process';
import { ensureTestKeys, mintToken } from '../tokens';
import { expectAccessible, launchBrowser, openPage } from './browser';

jest.setTimeout(90_000);

const ISSUER_PORT = 3295;
const API_PORT = 3293; // trusts the issuer only
const SETUP_PORT = 3294; // trusts the development key, to set the tenant up
const issuer = `http://127.0.0.1:${ISSUER_PORT}`;
const console_ = `http://127.0.0.1:${API_PORT}/console/`;
const tenantId = randomUUID();
const RESOURCE = 'urn:latchkey:api';

let browser: Browser;
let issuerProcess: ChildProcess;
const apps: RunningApp[] = [];

async function startApi(port: number, env: Record<string, string>): Promise<ApiClient> {
  apps.push(
    await startAppAndWait('api', { API_PORT: String(port), ...env }, `http://127.0.0.1:${port}/health`),
  );
  return new ApiClient(port);
}

let user: { userId: string; username: string; token: string };
let setup: ApiClient;

beforeAll(async () => {
  ensureTestKeys();
  issuerProcess = spawn(process.execPath, [join(__dirname, 'oidc-issuer.mjs')], {
    env: {
      ...process.env,
      ISSUER_PORT: String(ISSUER_PORT),
      REDIRECT_URI: `${console_}callback`,
      CLIENT_ID: 'latchkey-console',
      RESOURCE,
      AUDIENCE: 'latchkey',
      TENANT_ID: tenantId,
      ROLES: 'user',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [api] = await Promise.all([
    startApi(SETUP_PORT, {}),
    waitForHttp(`${issuer}/.well-known/openid-configuration`),
    launchBrowser().then((b) => (browser = b)),
  ]);
  setup = api;
  await startApi(API_PORT, {
    JWT_ISSUER: issuer,
    JWT_JWKS_URL: `${issuer}/jwks`,
    JWT_PUBLIC_KEY_FILE: '',
    CONSOLE_OIDC_ISSUER: issuer,
    CONSOLE_OIDC_SCOPE: 'openid api',
    CONSOLE_OIDC_RESOURCE: RESOURCE,
  });

  const admin = await mintToken({ tenantId, sub: 'oidc-test-admin', roles: ['tenant-admin'] });
  expect(
    (await setup.post('/v1/tenant', admin, { name: 'OIDC tenant', policy: { appPasswordsAllowed: true } }))
      .status,
  ).toBe(201);
  const username = `erin@oidc-${tenantId.slice(0, 8)}.test`;
  const created = await setup.post('/v1/users', admin, { username, mfa: 'enforced' });
  const token = await mintToken({ tenantId, sub: created.body.userId, roles: ['user'], mfa: true });
  expect((await setup.post('/v1/me/mfa-registration', token)).status).toBe(200);
  user = { userId: created.body.userId, username, token };
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const app of apps) if (app.child.exitCode === null) app.child.kill('SIGKILL');
  if (issuerProcess?.exitCode === null) issuerProcess.kill('SIGKILL');
});

it('signs in with the authorization-code flow and PKCE, then uses the token with the API', async () => {
  const session = await openPage(browser, { origin: console_ });
  const { page } = session;
  const authorize: URL[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(`${issuer}/auth`)) authorize.push(new URL(request.url()));
  });
  await page.goto(console_);
  await page.getByRole('button', { name: 'Sign in with your organisation' }).waitFor();
  await expectAccessible(page, 'sign-in page, OpenID Connect');
  await page.getByRole('button', { name: 'Sign in with your organisation' }).click();

  // At the issuer: its own (development) login form; the login typed is the subject.
  await page.locator('input[name="login"]').fill(user.userId);
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();

  await page.getByText('Signed in as').waitFor();
  await page.getByRole('heading', { name: 'My app passwords', level: 1 }).waitFor();
  // Back on the console, the code and state are gone from the address bar.
  expect(new URL(page.url()).search).toBe('');

  const request = authorize[0];
  expect(Object.fromEntries(request.searchParams)).toMatchObject({
    client_id: 'latchkey-console',
    response_type: 'code',
    redirect_uri: `${console_}callback`,
    code_challenge_method: 'S256',
    code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    state: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
    nonce: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
    resource: RESOURCE,
  });

  // The issuer's token works against the API: the person creates an app password with it.
  await page.getByLabel('Name (which device uses it)').fill('Tablet');
  await page.getByRole('button', { name: 'Create app password' }).click();
  await page.getByText('you will not see this again').waitFor();
  await session.screenshot('oidc-user-signed-in');
  const list = (await setup.get('/v1/me/app-passwords', user.token)).body as { name: string }[];
  expect(list.map((p) => p.name)).toEqual(['Tablet']);

  // A callback replayed (the code again, in a tab that did not start the flow) is refused, not signed in.
  const replay = await openPage(browser, { origin: console_ });
  await replay.page.goto(`${console_}callback?code=stolen&state=guessed&iss=${encodeURIComponent(issuer)}`);
  await replay.page.getByRole('alert').getByText('This sign-in was not started in this tab').waitFor();
  await replay.page.getByRole('button', { name: 'Sign in with your organisation' }).waitFor();
  await expectAccessible(replay.page, 'sign-in page, a refused callback announced');

  await session.context.close();
  await replay.context.close();
  expect(session.errors).toEqual([]);
  expect(replay.errors).toEqual([]);
});
