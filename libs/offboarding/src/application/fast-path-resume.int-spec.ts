import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AccessModule } from '@latchkey/access';
import { AppPasswordsHttpModule, RunUserCommand } from '@latchkey/app-passwords';
import { JobsModule } from '@latchkey/jobs';
import { listenIntegrationApp } from '../../../../test/integration-app';
import { mintToken } from '../../../../test/tokens';
import { sendHrRequest } from '../client/hr-request';
import { OffboardingHttpModule } from './offboarding.controller';

/**
 * B2's way back, through the API's own routes: an HR fast path suspends a synced user, the
 * offboarding is then rejected (this tenant gave no directory write credential) and, failing closed,
 * leaves the suspension in place. Only a tenant admin lifts it, and must be able to see it first.
 * No AD is needed: the rejection happens before any directory is contacted.
 */
describe('B2: lifting a fast-path suspension over HTTP (real PostgreSQL, Redis)', () => {
  const tenantId = randomUUID();
  const username = `leaver-${tenantId.slice(0, 8)}@contoso.test`;
  const userId = randomUUID();
  let app: NestExpressApplication;
  let base: string;
  let admin: string;
  let gateway: string;
  let self: string;
  let secret: Buffer;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: text ? JSON.parse(text) : undefined,
    };
  };
  const verify = async (password: string) =>
    (
      await call('POST', '/v1/sign-ins/verify', gateway, {
        username,
        password,
        protocol: 'IMAP',
        clientIp: '192.0.2.61',
      })
    ).body;
  const hr = async (body: object) => {
    const response = await sendHrRequest({ api: base, tenantId, secret, body });
    return { status: response.status, body: (await response.json()) as { offboardingId: string } };
  };

  beforeAll(async () => {
    process.env.REDIS_PREFIX = `latchkey-test-${tenantId.slice(0, 8)}`; // this test's own jobs
    ({ app, base } = await listenIntegrationApp(
      AccessModule,
      JobsModule,
      AppPasswordsHttpModule,
      OffboardingHttpModule,
    ));

    admin = await mintToken({ tenantId, sub: `admin-${randomUUID()}`, roles: ['tenant-admin'] });
    gateway = await mintToken({ tenantId, sub: 'mail-gateway', roles: ['gateway'] });
    self = await mintToken({ tenantId, sub: userId, roles: ['user'], mfa: true });
    expect(
      (
        await call('POST', '/v1/tenant', admin, {
          name: 'Fast path',
          policy: { appPasswordsAllowed: true, fastPathOffboarding: true },
        })
      ).status,
    ).toBe(201);
    // A synced user arrives only by directory sync, which has no route: as the sync worker does it.
    await app.get(CommandBus).execute(
      new RunUserCommand(
        {
          type: 'ProvisionUser',
          data: { tenantId, userId, username, source: 'synced', mfa: 'enforced', origin: 'directory-sync' },
        },
        { tenantId, actor: { kind: 'sync-worker', id: 'test-sync-worker' } },
      ),
    );
    const rotated = await call('POST', '/v1/offboarding/webhook-secret', admin);
    expect(rotated.status).toBe(201);
    secret = Buffer.from(rotated.body.secret as string, 'base64');
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  it("B2: an admin sees a fast-path suspension and lifts it; the user's app passwords verify again", async () => {
    expect((await call('POST', '/v1/me/mfa-registration', self)).status).toBe(200);
    const created = await call('POST', '/v1/me/app-passwords', self, { name: 'Outlook 2010' });
    expect(created.status).toBe(201);
    const password: string = created.body.password;
    expect(await verify(password)).toMatchObject({ allowed: true });
    expect((await call('GET', `/v1/users/${userId}`, admin)).body).toMatchObject({ signInsSuspended: false });

    // The fast path suspends at once; without a write credential the offboarding is then rejected.
    const accepted = await hr({ username, action: 'disable' });
    expect(accepted.status).toBe(202);
    const timeline = await call('GET', `/v1/offboarding/${accepted.body.offboardingId}`, admin);
    expect(timeline.body.timeline).toMatchObject({
      fastPathSuspendedAt: expect.any(String),
      rejected: { reason: 'directory-write-not-configured' },
    });

    // Failing closed: the rejection leaves the suspension, and the admin sees it, on the user and in the list.
    expect(await verify(password)).toEqual({ allowed: false, reason: 'account-suspended', rule: 'B2' });
    expect((await call('GET', `/v1/users/${userId}`, admin)).body).toMatchObject({
      status: 'active',
      signInsSuspended: true,
    });
    expect((await call('GET', `/v1/users?username=${encodeURIComponent(username)}`, admin)).body).toEqual([
      expect.objectContaining({ userId, signInsSuspended: true }),
    ]);
    expect((await call('GET', '/v1/users/page?prefix=leaver-', admin)).body.items).toEqual([
      expect.objectContaining({ userId, signInsSuspended: true, appPasswordCount: 1 }),
    ]);

    // Only a tenant admin lifts it; a user of another tenant is answered as a missing one.
    for (const role of ['user', 'hr', 'gateway', 'auditor'] as const) {
      const refused = await call(
        'POST',
        `/v1/users/${userId}/resume-sign-ins`,
        await mintToken({ tenantId, sub: `${role}-${randomUUID()}`, roles: [role], mfa: true }),
      );
      expect({ role, status: refused.status }).toEqual({ role, status: 403 });
    }
    const foreign = await call(
      'POST',
      `/v1/users/${userId}/resume-sign-ins`,
      await mintToken({ tenantId: randomUUID(), sub: 'admin', roles: ['tenant-admin'] }),
    );
    expect(foreign.status).toBe(404);
    expect(foreign.type).toMatch(/^application\/problem\+json/);
    expect(await verify(password)).toMatchObject({ reason: 'account-suspended' });

    const resumed = await call('POST', `/v1/users/${userId}/resume-sign-ins`, admin);
    expect(resumed).toMatchObject({ status: 200, body: { changed: true, events: ['UserSignInsResumed'] } });
    expect(await verify(password)).toMatchObject({ allowed: true });
    expect((await call('GET', `/v1/users/${userId}`, admin)).body).toMatchObject({ signInsSuspended: false });
    // Repeating it changes nothing, like enabling an enabled user.
    expect(await call('POST', `/v1/users/${userId}/resume-sign-ins`, admin)).toMatchObject({
      status: 200,
      body: { changed: false, events: [] },
    });
  });

  it('B2: resuming the sign-ins of a user that does not exist is a 404 problem', async () => {
    const missing = await call('POST', `/v1/users/${randomUUID()}/resume-sign-ins`, admin);
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/^application\/problem\+json/);
    expect(missing.body.type).toMatch(/user\.not-found$/);
  });
});
