// 403s over real HTTP, through the same guard, filter and body parser as the API. The API has no
// role-gated route of its own yet, so a probe controller that exists only in this test stands in.
import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { z } from 'zod';
import { AccessModule, RequireMfa, Roles } from '@latchkey/access';
import { LatchkeyConfigModule } from '@latchkey/config';
import { configureHttp, httpAppOptions, ZodBody } from '@latchkey/problems';
import { ensureTestKeys, mintToken } from './tokens';

const deviceSchema = z.object({
  name: z.string().min(1).max(20),
  protocols: z.array(z.enum(['imap', 'smtp'])),
});

@Roles('tenant-admin')
@Controller('probe')
class ProbeController {
  @Get()
  read() {
    return { ok: true };
  }

  @Roles('user')
  @RequireMfa()
  @Post()
  create(@Body(new ZodBody(deviceSchema)) body: z.infer<typeof deviceSchema>) {
    return body;
  }
}

@Module({ imports: [LatchkeyConfigModule.forRoot(), AccessModule], controllers: [ProbeController] })
class ProbeModule {}

describe('a role-gated route behind the HTTP edge', () => {
  let app: NestExpressApplication;
  let base: string;
  const tenantId = randomUUID();
  const as = async (roles: ('tenant-admin' | 'user' | 'auditor')[], mfa = false) => ({
    authorization: `Bearer ${await mintToken({ tenantId, sub: randomUUID(), roles, mfa })}`,
    'content-type': 'application/json',
  });

  beforeAll(async () => {
    ensureTestKeys();
    app = await NestFactory.create<NestExpressApplication>(ProbeModule, { ...httpAppOptions, logger: false });
    configureHttp(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app?.close());

  async function problem(response: Response) {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return { status: response.status, ...((await response.json()) as { type: string; errors?: unknown }) };
  }

  it('answers 403 forbidden problem+json to a valid token without the role', async () => {
    const response = await fetch(`${base}/probe`, { headers: await as(['user', 'auditor']) });
    expect(await problem(response)).toMatchObject({
      status: 403,
      type: 'https://latchkey.dev/problems/forbidden',
    });
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('lets the role through', async () => {
    const response = await fetch(`${base}/probe`, { headers: await as(['tenant-admin']) });
    expect(response.status).toBe(200);
  });

  it('answers 403 mfa-required when the route needs mfa and the token has none', async () => {
    const body = JSON.stringify({ name: 'phone', protocols: ['imap'] });
    const without = await fetch(`${base}/probe`, { method: 'POST', headers: await as(['user']), body });
    expect(await problem(without)).toMatchObject({
      status: 403,
      type: 'https://latchkey.dev/problems/mfa-required',
    });
    const withMfa = await fetch(`${base}/probe`, { method: 'POST', headers: await as(['user'], true), body });
    expect(withMfa.status).toBe(201);
  });

  it('answers an invalid body with 400 validation-failed and a pointer per error', async () => {
    const body = JSON.stringify({ name: '', protocols: ['gopher'], tenantId: randomUUID() });
    const response = await fetch(`${base}/probe`, {
      method: 'POST',
      headers: await as(['user'], true),
      body,
    });
    expect(await problem(response)).toMatchObject({
      status: 400,
      type: 'https://latchkey.dev/problems/validation-failed',
      errors: [
        { pointer: '/name', message: expect.any(String) },
        { pointer: '/protocols/0', message: expect.any(String) },
        { pointer: '/tenantId', message: 'is not allowed' },
      ],
    });
  });
});
