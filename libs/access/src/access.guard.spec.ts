import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SignJWT } from 'jose';
import { DependencyUnavailableError, ProblemError } from '@latchkey/problems';
import { Public, RequireMfa, Roles } from './access.decorators';
import { AccessGuard } from './access.guard';
import { JwtVerifier, KeySourceUnavailableError } from './jwt.verifier';
import { principalOf, type Role } from './principal';

const options = { issuer: 'https://issuer.test', audience: 'latchkey', clockToleranceSeconds: 30 };
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const verifier = JwtVerifier.fromPublicKeyPem(
  keys.publicKey.export({ type: 'spki', format: 'pem' }),
  options,
);
const tenantId = '0b6a1f3e-5d5c-4a55-9d0e-6a8f0c3b2a11';

@Roles('tenant-admin')
@Controller()
class AdminRoutes {
  @Get() listUsers() {}
  @Roles('user', 'hr') @Get() handlerOverrides() {}
  @Public() @Get() open() {}
}

@Public()
@Controller()
class MostlyPublicRoutes {
  @Get() open() {}
  @Roles('tenant-admin') @Get() adminOnly() {}
}

@Controller()
class MixedRoutes {
  @Get() anyAuthenticated() {}
  @Roles('user') @RequireMfa() @Get() createAppPassword() {}
}

function token(roles: Role[], amr = ['pwd']) {
  return new SignJWT({ tid: tenantId, roles, amr })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(keys.privateKey);
}

function context(controller: new () => object, handler: string, authorization?: string) {
  const req = { headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
  const ctx = {
    getHandler: () => (controller.prototype as Record<string, unknown>)[handler],
    getClass: () => controller,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  return { ctx, req };
}

async function outcome(
  guard: AccessGuard,
  controller: new () => object,
  handler: string,
  authorization?: string,
) {
  const { ctx, req } = context(controller, handler, authorization);
  try {
    await guard.canActivate(ctx);
    return { status: 200, principal: principalOf(req) };
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    return { status: error.status, slug: error.slug, challenge: error.headers['WWW-Authenticate'] };
  }
}

describe('AccessGuard', () => {
  const guard = new AccessGuard(new Reflector(), verifier);

  it('lets a @Public() route through without a token, even inside a guarded class', async () => {
    expect(await outcome(guard, AdminRoutes, 'open')).toEqual({ status: 200, principal: undefined });
  });

  it('keeps a handler with @Roles guarded inside a @Public() class', async () => {
    expect(await outcome(guard, MostlyPublicRoutes, 'open')).toMatchObject({ status: 200 });
    expect(await outcome(guard, MostlyPublicRoutes, 'adminOnly')).toMatchObject({ status: 401 });
  });

  it('requires a token everywhere else (401 with a challenge without an error code)', async () => {
    expect(await outcome(guard, MixedRoutes, 'anyAuthenticated')).toEqual({
      status: 401,
      slug: 'unauthenticated',
      challenge: 'Bearer realm="latchkey"',
    });
  });

  it.each(['Bearer nope', 'Basic YWxpY2U6cGFzcw==', 'Bearer', 'bearer a.b.c'])(
    'answers %j with 401 invalid_token',
    async (authorization) => {
      expect(await outcome(guard, MixedRoutes, 'anyAuthenticated', authorization)).toEqual({
        status: 401,
        slug: 'invalid-token',
        challenge: 'Bearer realm="latchkey", error="invalid_token"',
      });
    },
  );

  it('attaches the principal for any role when the route names none', async () => {
    const result = await outcome(
      guard,
      MixedRoutes,
      'anyAuthenticated',
      `Bearer ${await token(['gateway'])}`,
    );
    expect(result).toEqual({
      status: 200,
      principal: { subject: 'alice', tenantId, roles: ['gateway'], amr: ['pwd'], tokenId: undefined },
    });
  });

  it('403 when none of the class roles is held', async () => {
    const bearer = `Bearer ${await token(['user', 'auditor'])}`;
    expect(await outcome(guard, AdminRoutes, 'listUsers', bearer)).toMatchObject({
      status: 403,
      slug: 'forbidden',
    });
    const admin = `Bearer ${await token(['tenant-admin'])}`;
    expect(await outcome(guard, AdminRoutes, 'listUsers', admin)).toMatchObject({ status: 200 });
  });

  it("lets a handler's @Roles replace its class's", async () => {
    const hr = `Bearer ${await token(['hr'])}`;
    const admin = `Bearer ${await token(['tenant-admin'])}`;
    expect(await outcome(guard, AdminRoutes, 'handlerOverrides', hr)).toMatchObject({ status: 200 });
    expect(await outcome(guard, AdminRoutes, 'handlerOverrides', admin)).toMatchObject({ status: 403 });
  });

  it('403 mfa-required when the token has no mfa in amr', async () => {
    const pwdOnly = `Bearer ${await token(['user'], ['pwd'])}`;
    const withMfa = `Bearer ${await token(['user'], ['pwd', 'mfa'])}`;
    expect(await outcome(guard, MixedRoutes, 'createAppPassword', pwdOnly)).toMatchObject({
      status: 403,
      slug: 'mfa-required',
    });
    expect(await outcome(guard, MixedRoutes, 'createAppPassword', withMfa)).toMatchObject({ status: 200 });
  });

  it('checks the role before mfa, so a wrong-role caller learns nothing about the second factor', async () => {
    const hrWithoutMfa = `Bearer ${await token(['hr'], ['pwd'])}`;
    expect(await outcome(guard, MixedRoutes, 'createAppPassword', hrWithoutMfa)).toMatchObject({
      slug: 'forbidden',
    });
  });

  it('answers 503 when the issuer keys cannot be fetched, not 401', async () => {
    const unreachable = {
      verify: () => Promise.reject(new KeySourceUnavailableError('down')),
    } as unknown as JwtVerifier;
    const { ctx } = context(MixedRoutes, 'anyAuthenticated', `Bearer ${await token(['user'])}`);
    await expect(new AccessGuard(new Reflector(), unreachable).canActivate(ctx)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });
});
