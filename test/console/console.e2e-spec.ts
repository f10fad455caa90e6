// The web console in a real browser (Debian's Chromium, headless): a user creates and deletes an app
// password, an admin forbids creation and the user sees why, an auditor opens an offboarding's
// timeline. Each test checks what the page shows and what the API answers afterwards, runs axe-core
// (WCAG 2.1 AA) on each state it reaches, and fails on any browser console error other than the API
// refusals it announces. Screenshots: test-output/console/.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { sendHrRequest } from '@latchkey/offboarding';
import { Attribute } from 'ldapts';
import { ldapsClient, SambaAdmin, samba } from '../../libs/directory/src/testing/samba-admin';
import { ApiClient, expectProblem } from '../api-client';
import { startAppAndWait, type RunningApp } from '../app-process';
import { ensureTestKeys, mintToken } from '../tokens';
import { expectAccessible, launchBrowser, openPage, type ConsolePage, type ExpectedRefusal } from './browser';

jest.setTimeout(90_000);

const PORT = 3290;
const WORKER_PORT = 3291;
const BARE_PORT = 3292;
const HOLD_PORT = 3297; // another tenant, whose directory holds a mass deletion
const SUSPEND_PORT = 3298; // another tenant, whose HR fast path suspends a synced user
const origin = `http://127.0.0.1:${PORT}`;
const tenantId = randomUUID();
const domain = `console-${tenantId.slice(0, 8)}.test`;
// Its own bull queues, so that the worker started here serves only this suite's jobs.
const isolated = { REDIS_PREFIX: `latchkey-console-${process.pid}` };

let api: ApiClient;
let running: RunningApp[] = [];
let browser: Browser;
let admin: string;
let gateway: string;
let auditor: string;
const opened: ConsolePage[] = [];

async function start(app: 'api' | 'sync-worker', env: Record<string, string>, health: string) {
  running.push(await startAppAndWait(app, env, health));
}

async function provision(name: string): Promise<{ userId: string; username: string; token: string }> {
  const username = `${name}@${domain}`;
  const created = await api.post('/v1/users', admin, { username, mfa: 'enforced' });
  expect(created.status).toBe(201);
  const userId = created.body.userId as string;
  const token = await mintToken({ tenantId, sub: userId, roles: ['user'], mfa: true });
  expect((await api.post('/v1/me/mfa-registration', token)).status).toBe(200);
  return { userId, username, token };
}

const verify = (username: string, password: string, protocol = 'IMAP') =>
  api.post('/v1/sign-ins/verify', gateway, { username, password, protocol, clientIp: '192.0.2.44' });

/** Opens the console and signs in with the development sign-in, as a person would. */
async function signIn(
  role: 'user' | 'tenant-admin' | 'auditor',
  options: { username?: string; phone?: boolean; refusals?: ExpectedRefusal[]; at?: string } = {},
) {
  const { username, phone = false, refusals = [], at = origin } = options;
  const session = await openPage(browser, { origin: at, phone });
  opened.push(session);
  refusals.forEach(session.expectRefusal);
  const { page } = session;
  await page.goto(`${at}/console/`);
  await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  await expectAccessible(page, 'sign-in page');
  await page.getByLabel('Role').selectOption(role);
  if (username) {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Username').press('Enter'); // the keyboard submits the form
  } else {
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.getByText('Signed in as').waitFor();
  return session;
}

beforeAll(async () => {
  ensureTestKeys();
  api = new ApiClient(PORT);
  const env = {
    ...isolated,
    API_PORT: String(PORT),
    CONSOLE_DEV_SIGN_IN: 'true',
    CONSOLE_DEV_TENANT_ID: tenantId,
  };
  await Promise.all([
    start('api', env, `${origin}/health`),
    start(
      'sync-worker',
      { ...isolated, WORKER_HEALTH_PORT: String(WORKER_PORT) },
      `http://127.0.0.1:${WORKER_PORT}/health`,
    ),
    launchBrowser().then((b) => (browser = b)),
  ]);
  admin = await mintToken({ tenantId, sub: 'console-test-admin', roles: ['tenant-admin'] });
  gateway = await mintToken({ tenantId, sub: 'console-test-gateway', roles: ['gateway'] });
  auditor = await mintToken({ tenantId, sub: 'console-test-auditor', roles: ['auditor'] });
  const created = await api.post('/v1/tenant', admin, {
    name: `Console ${tenantId.slice(0, 8)}`,
    policy: { appPasswordsAllowed: true },
  });
  expect(created.status).toBe(201);
}, 90_000);

afterEach(async () => {
  const sessions = opened.splice(0);
  for (const session of sessions) await session.context.close();
  for (const session of sessions) expect(session.errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  for (const process of running) if (process.child.exitCode === null) process.child.kill('SIGKILL');
  running = [];
});

describe('the console is served by the API, on its origin', () => {
  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const page = await api.get('/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.text)![1];
    const asset = await api.get(script);
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // A route of the app is the page; a file that is not built is a problem, not the page.
    expect((await api.get('/console/audit')).text).toBe(page.text);
    expectProblem(await api.get('/console/assets/missing-0000.js'), 404, 'not-found');
    expectProblem(await api.get('/console/..%2f..%2fpackage.json'), 404, 'not-found');
  });

  it('is checked by axe-core, which names what breaks WCAG 2.1 AA and where', async () => {
    const session = await openPage(browser, { origin });
    opened.push(session);
    const { page } = session;
    await page.goto(`${origin}/console/`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await expectAccessible(page, 'sign-in page');
    // The check is not a formality: an unlabelled field and pale text are found, with where they are.
    await page.evaluate(`{
      const field = Object.assign(document.createElement('input'), { id: 'unlabelled' });
      const pale = Object.assign(document.createElement('p'), { id: 'pale', textContent: 'Hard to read' });
      pale.style.color = '#bbb';
      document.querySelector('main').append(field, pale);
    }`);
    const failure = expectAccessible(page, 'sign-in page, spoilt on purpose');
    await expect(failure).rejects.toThrow(/^axe, on the sign-in page, spoilt on purpose:/);
    await expect(failure).rejects.toThrow(/\blabel \(critical\): .* — \["#unlabelled"\]/);
    await expect(failure).rejects.toThrow(/\bcolor-contrast \(serious\): .* — \["#pale"\]/);
  });

  it('answers 404 problem+json for the development sign-in unless configuration turns it on', async () => {
    await start('api', { ...isolated, API_PORT: String(BARE_PORT) }, `http://127.0.0.1:${BARE_PORT}/health`);
    const bare = new ApiClient(BARE_PORT);
    expect((await bare.get('/console/config.json')).body).toEqual({ oidc: null, devSignIn: false });
    expectProblem(
      await bare.post('/console/dev-sign-in', undefined, { role: 'tenant-admin' }),
      404,
      'not-found',
    );
    // Turned on, it signs in to the configured tenant only, with the role asked for.
    const signedIn = await api.post('/console/dev-sign-in', undefined, { role: 'auditor' });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers['cache-control']).toBe('no-store');
    const me = await api.get('/v1/me', signedIn.body.accessToken);
    expect(me.body).toMatchObject({ tenantId, roles: ['auditor'] });
  });
});

describe('a user', () => {
  it('creates an app password, sees it once, and deletes it (R2, B11)', async () => {
    const alice = await provision('alice');
    const { page, screenshot } = await signIn('user', { username: alice.username, phone: true });
    await page.getByRole('heading', { name: 'My app passwords', level: 1 }).waitFor();
    await page.getByText('You have no app passwords.').waitFor();
    // What applies is shown before anything is tried (R3, B7, R1).
    const applies = page.getByTestId('what-applies');
    await applies.getByText('0 of at most 40').waitFor();
    await expect(applies.textContent()).resolves.toContain('New app passwords do not expire');
    await expect(applies.textContent()).resolves.toContain('Enforced, registered');

    await page.getByLabel('Name (which device uses it)').fill('Laptop mail');
    await page.getByRole('checkbox', { name: 'IMAP' }).check();
    await page.getByRole('checkbox', { name: 'SMTP' }).check();
    await page.getByRole('button', { name: 'Create app password' }).click();
    await page.getByText('you will not see this again').waitFor();
    const groups = await page.getByTestId('secret').locator('span').allTextContents();
    expect(groups.length).toBeGreaterThan(1);
    for (const group of groups) expect(group).toMatch(/^[a-z0-9]{1,4}$/);
    await screenshot('user-secret-shown-once');
    await expectAccessible(page, 'user page, the one-time secret shown');
    // Readable on a phone: nothing wider than the screen.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);

    // The secret on the page is the one the gateway accepts, for the protocols chosen only.
    const password = groups.join('');
    expect((await verify(alice.username, password, 'IMAP')).body).toMatchObject({ allowed: true });
    expect((await verify(alice.username, password, 'POP')).body).toMatchObject({ allowed: false });

    await page.getByRole('button', { name: 'I have saved it' }).click();
    await expect(page.getByTestId('secret').count()).resolves.toBe(0);
    const row = page.getByRole('row', { name: /Laptop mail/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('IMAP, SMTP');
    await expectAccessible(page, 'user page, with the list');

    await page.getByRole('button', { name: 'Delete Laptop mail' }).focus();
    await page.keyboard.press('Enter');
    await expectAccessible(page, 'user page, asking to confirm a deletion');
    await page.getByRole('button', { name: 'Delete “Laptop mail” now' }).click();
    await page.getByText('You have no app passwords.').waitFor();
    await screenshot('user-deleted');

    expect((await api.get('/v1/me/app-passwords', alice.token)).body).toEqual([]);
    expect((await verify(alice.username, password, 'IMAP')).body).toMatchObject({ allowed: false });
  });
});

describe('an admin forbids creating app passwords', () => {
  it('and the user is told why (R10), and why they cannot delete theirs either (R12)', async () => {
    const carol = await provision('carol');
    const kept = await api.post('/v1/me/app-passwords', carol.token, { name: 'Old phone' });
    expect(kept.status).toBe(201);

    const adminPage = await signIn('tenant-admin', {
      refusals: [{ status: 404, path: /^\/v1\/directory$/ }], // no directory connected
    });
    const { page } = adminPage;
    await page.getByRole('heading', { name: 'Tenant admin', level: 1 }).waitFor();
    const allow = page.getByRole('checkbox', {
      name: /Allow users to create app passwords to sign in to non-browser apps/,
    });
    await expect(allow.isChecked()).resolves.toBe(true);
    await allow.uncheck();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy saved.').waitFor();
    await page.getByText('No on-premises directory is connected').waitFor();
    await adminPage.screenshot('admin-policy-forbids');
    await expectAccessible(page, 'admin page, policy saved, no directory');
    expect((await api.get('/v1/tenant', admin)).body.policy.appPasswordsAllowed).toBe(false);

    // The user is told before trying: nothing is sent that the API would refuse.
    const userPage = await signIn('user', { username: carol.username });
    const user = userPage.page;
    const why = user.locator('[data-rule="R10"]');
    await why.getByRole('heading', { name: 'Your organisation does not allow new app passwords' }).waitFor();
    await expect(why.textContent()).resolves.toContain(
      'A tenant admin must allow users to create app passwords',
    );
    await expect(user.getByTestId('what-applies').textContent()).resolves.toContain(
      'Turned off by your organisation',
    );
    // The create form is disabled, and says why where it is.
    await expect(user.getByLabel('Name (which device uses it)').isDisabled()).resolves.toBe(true);
    await expect(user.getByRole('button', { name: 'Create app password' }).isDisabled()).resolves.toBe(true);
    await expect(user.getByTestId('create-disabled-because').textContent()).resolves.toBe(
      'You cannot create an app password now: This tenant does not allow users to create app passwords. (R10)',
    );
    const createButton = user.getByRole('button', { name: 'Create app password' });
    await expect(
      createButton.evaluate((b) => b.closest('fieldset')?.getAttribute('aria-describedby')),
    ).resolves.toBe(await user.getByTestId('create-disabled-because').getAttribute('id'));
    // R12 is explained up front too, and the delete button is off.
    await user.locator('[data-rule="R12"]').getByText('Only an admin can delete app passwords now').waitFor();
    await expect(user.getByRole('button', { name: 'Delete Old phone' }).isDisabled()).resolves.toBe(true);
    await userPage.screenshot('user-sees-why-r10');
    await expectAccessible(user, 'user page, creation forbidden (R10, R12)');

    // What the page said is what the API does.
    expectProblem(
      await api.post('/v1/me/app-passwords', carol.token, { name: 'New tablet' }),
      422,
      'R10.app-passwords-not-allowed',
    );
    expectProblem(
      await api.delete(`/v1/me/app-passwords/${kept.body.appPasswordId}`, carol.token),
      422,
      'R12.users-cannot-manage',
    );
    expect((await api.get('/v1/me/app-password-policy', carol.token)).body).toMatchObject({
      appPasswordsAllowed: false,
      canCreate: false,
      canDelete: false,
      reasons: [{ rule: 'R10' }],
    });

    // Nothing was created or deleted, and the existing app password still works (R12).
    const list = (await api.get('/v1/me/app-passwords', carol.token)).body as { name: string }[];
    expect(list.map((p) => p.name)).toEqual(['Old phone']);
    expect((await verify(carol.username, kept.body.password)).body).toMatchObject({ allowed: true });

    // Admins still can (R12, R16): open carol from the list of users and delete all of hers.
    const users = page.getByRole('region', { name: 'Users and their app passwords' });
    await users.getByLabel('Username starts with').fill('carol');
    await users.getByRole('button', { name: 'Filter' }).click();
    await users.getByRole('button', { name: carol.username }).click();
    await page.getByRole('row', { name: /Old phone/ }).waitFor();
    await expectAccessible(page, "admin page, a user's app passwords open");
    await page.getByRole('button', { name: 'Delete all app passwords' }).click();
    await expectAccessible(page, 'admin page, asking to confirm delete-all');
    await page.getByRole('button', { name: /Yes, delete all of/ }).click();
    await page.getByText('Deleted every app password.').waitFor();
    expect((await api.get('/v1/me/app-passwords', carol.token)).body).toEqual([]);
    // The list's count follows.
    await users.getByRole('row', { name: new RegExp(`${carol.username}.*\\b0$`) }).waitFor();

    expect((await api.patch('/v1/tenant/policy', admin, { appPasswordsAllowed: true })).status).toBe(200);
  });
});

describe('an admin finds users', () => {
  it('pages through the list with the keyboard, narrowed by the start of the username, and opens one', async () => {
    const prefix = `pager-${randomUUID().slice(0, 6)}-`;
    const names = Array.from({ length: 22 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}@${domain}`);
    for (const username of names) {
      expect((await api.post('/v1/users', admin, { username, mfa: 'enforced' })).status).toBe(201);
    }
    const { page, screenshot } = await signIn('tenant-admin', {
      refusals: [{ status: 404, path: /^\/v1\/directory$/ }],
    });
    const users = page.getByRole('region', { name: 'Users and their app passwords' });
    const table = users.getByRole('table', { name: "The tenant's users" });
    await table.waitFor();

    const filter = users.getByLabel('Username starts with');
    await filter.focus();
    await page.keyboard.type(prefix.toUpperCase()); // compared as usernames are: case does not matter
    await page.keyboard.press('Enter');
    const shown = () => table.getByRole('rowheader').allTextContents();
    await users.getByRole('button', { name: names[0] }).waitFor();
    await expect(shown()).resolves.toEqual(names.slice(0, 20));
    await expect(users.getByRole('button', { name: 'Previous page' }).isDisabled()).resolves.toBe(true);

    await users.getByRole('button', { name: 'Next page' }).focus();
    await page.keyboard.press('Enter');
    await users.getByRole('button', { name: names[21] }).waitFor();
    await expect(shown()).resolves.toEqual(names.slice(20));
    await expect(users.getByRole('button', { name: 'Next page' }).isDisabled()).resolves.toBe(true);
    await users.getByText('Page 2').waitFor();
    await screenshot('admin-users-page-2');
    await expectAccessible(page, 'admin page, second page of users');

    // Enter on a name opens that user; focus moves to what opened.
    await users.getByRole('button', { name: names[21] }).focus();
    await page.keyboard.press('Enter');
    const heading = users.getByRole('heading', { name: `App passwords of ${names[21]}` });
    await heading.waitFor();
    // The heading takes focus once the user's app passwords have loaded: wait for it, not race it.
    await heading.and(page.locator(':focus')).waitFor({ timeout: 5_000 });
    await users.getByText('No app passwords.').waitFor();

    await users.getByRole('button', { name: 'Previous page' }).click();
    await users.getByRole('button', { name: names[0] }).waitFor();
    await expect(shown()).resolves.toEqual(names.slice(0, 20));
  });
});

describe('an auditor', () => {
  it("opens an offboarding's timeline, with the user's sign-ins, the chain's status and an export (B1, B3)", async () => {
    const dave = await provision('dave');
    const created = await api.post('/v1/me/app-passwords', dave.token, { name: 'Outlook 2010' });
    expect((await verify(dave.username, created.body.password, 'EAS')).body).toMatchObject({ allowed: true });

    const secret = (await api.post('/v1/offboarding/webhook-secret', admin)).body.secret as string;
    const response = await sendHrRequest({
      api: `http://127.0.0.1:${PORT}`,
      tenantId,
      secret: Buffer.from(secret, 'base64'),
      body: { username: dave.username, action: 'disable', reason: 'left the company' },
    });
    const requested = { status: response.status, body: (await response.json()) as { offboardingId: string } };
    expect(requested.status).toBe(202);
    const offboardingId = requested.body.offboardingId as string;
    // The sync worker carries it out; wait until the API says so.
    const deadline = Date.now() + 30_000;
    let timeline = (await api.get(`/v1/offboarding/${offboardingId}`, auditor)).body;
    while (!timeline.timeline?.appliedAt && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      timeline = (await api.get(`/v1/offboarding/${offboardingId}`, auditor)).body;
    }
    expect(timeline.timeline.appliedAt).toEqual(expect.any(String));
    expect((await verify(dave.username, created.body.password, 'EAS')).body).toMatchObject({
      allowed: false,
    });

    const { page, screenshot } = await signIn('auditor');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    await page.getByRole('button', { name: new RegExp(`${dave.username} — disable`) }).click();
    const section = page.getByRole('region', { name: `Timeline of ${dave.username}'s offboarding` });
    await section.waitFor();
    const steps = section.getByRole('list', { name: 'Offboarding timeline' });
    await expect(
      steps.getByRole('listitem').filter({ hasText: 'Applied in the cloud' }).textContent(),
    ).resolves.not.toContain('not yet');
    await expect(
      steps.getByRole('listitem').filter({ hasText: 'App passwords stopped working' }).textContent(),
    ).resolves.not.toContain('not yet');
    await section.getByRole('img', { name: /Exposure window from/ }).waitFor();
    await expect(section.textContent()).resolves.toContain('left the company');

    // The user's history: the offboarding, and every sign-in (R9).
    const history = page.getByRole('table', { name: "The user's history" });
    await history
      .getByRole('row', { name: /LegacySignInSucceeded/ })
      .first()
      .waitFor();
    await history
      .getByRole('row', { name: /OffboardingRequested/ })
      .first()
      .waitFor();
    await history
      .getByRole('row', { name: /UserDisabled/ })
      .first()
      .waitFor();
    await page.getByTestId('chain-status').waitFor();
    await expect(page.getByTestId('chain-status').textContent()).resolves.toMatch(/^Intact/);
    await screenshot('auditor-offboarding-timeline');
    await expectAccessible(page, 'auditor page, an offboarding timeline');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export as NDJSON' }).click(),
    ]);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['UserProvisioned', 'LegacySignInSucceeded', 'OffboardingRequested']),
    );
    const aboutDave = (e: { streamId: string; data: { userId?: string } }) =>
      e.streamId === `user-${dave.userId}` || e.data.userId === dave.userId;
    expect(lines.every(aboutDave)).toBe(true);
  });
});

describe('an admin watches directory sync', () => {
  it('runs a pass now (B10) and sees the pending propagations count down to their due instants (R8)', async () => {
    const env = (name: string) => process.env[name]!;
    const connected = await api.put('/v1/directory', admin, {
      url: env('LDAP_URL'),
      caPem: readFileSync(join(__dirname, '..', '..', env('LDAP_CA_FILE')), 'utf8'),
      bindDn: env('LDAP_BIND_DN'),
      bindPassword: env('LDAP_BIND_PASSWORD'),
      baseDn: env('LDAP_BASE_DN'),
      usersOnlyUnder: env('LDAP_USERS_OU'),
      delayModel: { kind: 'fixed', delayMs: 10 * 60_000 }, // long enough to stay pending here
    });
    expect(connected.status).toBe(200);

    const { page, screenshot } = await signIn('tenant-admin');
    const directory = page.getByRole('region', { name: 'Directory sync' });
    await directory.getByText('None yet').waitFor(); // no pass so far
    await directory.getByRole('button', { name: 'Sync now' }).click();
    await directory.getByText('A sync pass was requested.').waitFor();

    // The worker reads the directory; its changes are scheduled, each with its due instant.
    const deadline = Date.now() + 30_000;
    let status = (await api.get('/v1/directory', admin)).body;
    while (status.pending.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await api.get('/v1/directory', admin)).body;
    }
    expect(status.pending.length).toBeGreaterThan(0);
    expect(status.lastPass).toMatchObject({ at: expect.any(String) });

    await directory.getByRole('button', { name: 'Refresh' }).click();
    const first = directory.getByRole('listitem').filter({ hasText: status.pending[0].changeId.slice(0, 8) });
    const countdown = async () => {
      const text = (await first.locator('strong').textContent()) ?? '';
      const [, min, sec] = /^in (\d+) min (\d+) s$/.exec(text) ?? [];
      return Number(min) * 60 + Number(sec);
    };
    const before = await countdown();
    expect(before).toBeGreaterThan(8 * 60);
    expect(before).toBeLessThanOrEqual(10 * 60);
    await page.waitForTimeout(2_100);
    const after = await countdown();
    expect(after).toBeLessThan(before);
    expect(after).toBeGreaterThanOrEqual(before - 4);
    await expect(directory.textContent()).resolves.not.toContain('None yet');
    await screenshot('admin-directory-pending');
    await expectAccessible(page, 'admin page, directory sync with pending propagations');
  });
});

interface DirectoryTenant {
  tenantId: string;
  origin: string;
  api: ApiClient;
  admin: string;
  people: { dn: string; sam: string; upn: string }[];
  /** Until `what` is true, within 30 s; `state` says what was seen if it never is. */
  until: (what: string, done: () => Promise<boolean>, state: () => Promise<unknown>) => Promise<void>;
  /** Deletes an AD user of the OU, as on premises. */
  deleteFromDirectory: (dn: string) => Promise<void>;
  cleanUp: () => Promise<void>;
}

/**
 * A tenant of its own with `policy`, served by an API of its own on `port` (the development sign-in
 * serves one tenant per API), its directory scoped to an OU of its own holding `names` as AD users.
 */
async function startDirectoryTenant(
  port: number,
  label: string,
  names: string[],
  policy: Record<string, unknown>,
  directory: Record<string, unknown>,
): Promise<DirectoryTenant> {
  const tenantId = randomUUID();
  const tag = `${label}-${tenantId.slice(0, 6)}`;
  const { baseDn, realm } = samba();
  const ou = `OU=console-${tag},${baseDn}`;
  const people = names.map((n) => ({
    dn: `CN=${n}${tag},${ou}`,
    sam: `${n}${tag}`,
    upn: `${n}${tag}@${realm}`,
  }));
  const origin = `http://127.0.0.1:${port}`;
  await start(
    'api',
    { ...isolated, API_PORT: String(port), CONSOLE_DEV_SIGN_IN: 'true', CONSOLE_DEV_TENANT_ID: tenantId },
    `${origin}/health`,
  );
  const api = new ApiClient(port);
  const admin = await mintToken({ tenantId, sub: `console-${label}-admin`, roles: ['tenant-admin'] });
  expect((await api.post('/v1/tenant', admin, { name: `Console ${tag}`, policy })).status).toBe(201);
  const sambaAdmin = await SambaAdmin.connect();
  const client = ldapsClient();
  await client.bind(`Administrator@${realm}`, process.env.SAMBA_ADMIN_PASSWORD!);
  await client.add(ou, [new Attribute({ type: 'objectClass', values: ['top', 'organizationalUnit'] })]);
  await client.unbind();
  for (const person of people) await sambaAdmin.createUser(person.dn, person.sam, person.upn);
  const env = (name: string) => process.env[name]!;
  const connected = await api.put('/v1/directory', admin, {
    url: env('LDAP_URL'),
    caPem: readFileSync(join(__dirname, '..', '..', env('LDAP_CA_FILE')), 'utf8'),
    bindDn: env('LDAP_BIND_DN'),
    bindPassword: env('LDAP_BIND_PASSWORD'),
    baseDn,
    usersOnlyUnder: ou,
    ...directory,
  });
  expect(connected.status).toBe(200);
  return {
    tenantId,
    origin,
    api,
    admin,
    people,
    until: async (what, done, state) => {
      const deadline = Date.now() + 30_000;
      while (!(await done())) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting until ${what}: ${JSON.stringify(await state())}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    deleteFromDirectory: (dn) => sambaAdmin.deleteIfPresent(dn),
    cleanUp: async () => {
      for (const person of people) await sambaAdmin.deleteIfPresent(person.dn);
      await sambaAdmin.deleteIfPresent(ou);
      await sambaAdmin.close();
    },
  };
}

describe('an admin decides on a held mass deletion (B9)', () => {
  let tenant: DirectoryTenant | undefined;
  afterAll(() => tenant?.cleanUp());

  it('sees the pass that would delete more users than the threshold, approves it, and the users go', async () => {
    // Its directory holds any pass that would delete more than one user.
    tenant = await startDirectoryTenant(
      HOLD_PORT,
      'b9',
      ['a', 'b'],
      {},
      { delayModel: { kind: 'fixed', delayMs: 200 }, deletionThreshold: 1 },
    );
    const { api: holdApi, admin: holdAdmin, people } = tenant;
    const statusOf = async () => (await holdApi.get('/v1/directory', holdAdmin)).body;
    const cloudStatus = async () =>
      Promise.all(
        people.map(async (p) => {
          const found = (await holdApi.get(`/v1/users?username=${encodeURIComponent(p.upn)}`, holdAdmin))
            .body;
          return (found as { status: string }[])[0]?.status ?? 'none';
        }),
      );
    const until = (what: string, done: () => Promise<boolean>) =>
      tenant!.until(what, done, async () => ({ users: await cloudStatus(), directory: await statusOf() }));
    // The first pass brings both users to the cloud.
    expect((await holdApi.post('/v1/directory/sync', holdAdmin)).status).toBe(202);
    await until('both users are in the cloud', async () =>
      (await cloudStatus()).every((s) => s === 'active'),
    );

    // Both deleted on premises: two deletions, more than the threshold of one, so the pass holds them.
    for (const person of people) await tenant.deleteFromDirectory(person.dn);
    expect((await holdApi.post('/v1/directory/sync', holdAdmin)).status).toBe(202);
    await until('the pass is held', async () => (await statusOf()).heldMassDeletions.length === 1);
    const [hold] = (await statusOf()).heldMassDeletions as { passId: string; changeIds: string[] }[];
    expect(hold.changeIds).toHaveLength(2);
    await expect(cloudStatus()).resolves.toEqual(['active', 'active']); // nobody deleted yet

    const { page, screenshot } = await signIn('tenant-admin', { at: tenant.origin });
    const directory = page.getByRole('region', { name: 'Directory sync' });
    const held = directory.locator('.hold').filter({ hasText: hold.passId.slice(0, 8) });
    await held.getByText('would delete 2 users').waitFor();
    await directory.getByText('Held when a pass would delete more than 1 user').waitFor();
    await screenshot('admin-mass-deletion-held');
    await expectAccessible(page, 'admin page, a mass deletion held for a decision');

    await held.getByRole('button', { name: 'Approve deletions' }).click();
    await directory.getByText('Deletions approved.').waitFor();
    await directory.getByText('None waiting.').waitFor();
    // A deleted cloud user is no longer found by username.
    await until('both users are deleted in the cloud', async () =>
      (await cloudStatus()).every((s) => s === 'none'),
    );
    expect((await statusOf()).heldMassDeletions).toEqual([]);
  });
});

describe('an admin lifts a fast-path suspension (B2)', () => {
  let tenant: DirectoryTenant | undefined;
  afterAll(() => tenant?.cleanUp());

  it('sees the suspended user in the list, resumes their sign-ins, and the app password works again', async () => {
    // The fast path on, and a directory that gave no write credential: the HR request suspends the
    // synced user at once, then is refused, and the suspension stays (B2).
    tenant = await startDirectoryTenant(
      SUSPEND_PORT,
      'b2',
      [''],
      { appPasswordsAllowed: true, fastPathOffboarding: true },
      { delayModel: { kind: 'fixed', delayMs: 200 } },
    );
    const { api: suspendApi, admin: suspendAdmin, tenantId: suspendTenant, origin: suspendOrigin } = tenant;
    const [person] = tenant.people;
    const suspendGateway = await mintToken({
      tenantId: suspendTenant,
      sub: 'console-b2-gateway',
      roles: ['gateway'],
    });
    expect((await suspendApi.post('/v1/directory/sync', suspendAdmin)).status).toBe(202);
    const cloudUser = async () =>
      (
        (await suspendApi.get(`/v1/users?username=${encodeURIComponent(person.upn)}`, suspendAdmin)).body as {
          userId: string;
          status: string;
          signInsSuspended: boolean;
        }[]
      )[0];
    await tenant.until(
      'the synced user is in the cloud',
      async () => (await cloudUser())?.status === 'active',
      cloudUser,
    );
    const { userId } = await cloudUser();

    // The synced user, with MFA on, creates an app password, which verifies.
    expect((await suspendApi.put(`/v1/users/${userId}/mfa`, suspendAdmin, { mfa: 'enforced' })).status).toBe(
      200,
    );
    const self = await mintToken({ tenantId: suspendTenant, sub: userId, roles: ['user'], mfa: true });
    expect((await suspendApi.post('/v1/me/mfa-registration', self)).status).toBe(200);
    const appPassword = await suspendApi.post('/v1/me/app-passwords', self, { name: 'Outlook 2010' });
    expect(appPassword.status).toBe(201);
    const verifyHere = async () =>
      (
        await suspendApi.post('/v1/sign-ins/verify', suspendGateway, {
          username: person.upn,
          password: appPassword.body.password,
          protocol: 'IMAP',
          clientIp: '192.0.2.45',
        })
      ).body;
    expect(await verifyHere()).toMatchObject({ allowed: true });

    const secret = (await suspendApi.post('/v1/offboarding/webhook-secret', suspendAdmin)).body
      .secret as string;
    const hr = await sendHrRequest({
      api: suspendOrigin,
      tenantId: suspendTenant,
      secret: Buffer.from(secret, 'base64'),
      body: { username: person.upn, action: 'disable', reason: 'left the company' },
    });
    expect(hr.status).toBe(202);
    expect(await verifyHere()).toMatchObject({ allowed: false, reason: 'account-suspended' });

    const { page, screenshot } = await signIn('tenant-admin', { at: suspendOrigin });
    const users = page.getByRole('region', { name: 'Users and their app passwords' });
    const row = users.getByRole('row').filter({ hasText: person.upn });
    await row.getByText('active · sign-ins suspended').waitFor();
    await row.getByRole('button', { name: person.upn }).press('Enter'); // the keyboard opens it
    const opened = users.getByRole('region', { name: `App passwords of ${person.upn}` });
    await opened.getByText('An HR offboarding suspended this user').waitFor();
    await screenshot('admin-user-sign-ins-suspended');
    await expectAccessible(page, 'admin page, a user whose sign-ins are suspended');

    await opened.getByRole('button', { name: `Resume sign-ins of ${person.upn}` }).click();
    await users.getByText('Sign-ins resumed').waitFor();
    await expect(opened.getByRole('button', { name: /^Resume sign-ins/ }).count()).resolves.toBe(0);
    await row.getByText('sign-ins suspended').waitFor({ state: 'detached' });
    expect(await verifyHere()).toMatchObject({ allowed: true });
    expect((await cloudUser()).signInsSuspended).toBe(false);
  });
});
