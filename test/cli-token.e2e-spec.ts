import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JwtVerifier } from '@latchkey/access';

const run = promisify(execFile);
const root = join(__dirname, '..');
const cli = join(root, 'dist/apps/cli/src/main.js');
const tenantId = '0b6a1f3e-5d5c-4a55-9d0e-6a8f0c3b2a11';

describe('cli token', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-keys-'));
    env = {
      ...process.env,
      NODE_ENV: 'development',
      JWT_DEV_PRIVATE_KEY_FILE: join(dir, 'keys/private.pem'),
      JWT_PUBLIC_KEY_FILE: join(dir, 'keys/public.pem'),
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const token = (...args: string[]) =>
    run(process.execPath, [cli, 'token', '--tenant', tenantId, ...args], { env, cwd: root });

  it('creates the key pair once when eight processes race for it, and every token verifies', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => token('--sub', `client-${i}`, '--roles', 'gateway')),
    );
    expect(statSync(join(dir, 'keys/private.pem')).mode & 0o777).toBe(0o600);
    const verifier = JwtVerifier.fromPublicKeyPem(readFileSync(join(dir, 'keys/public.pem')), {
      issuer: process.env.JWT_ISSUER ?? 'https://latchkey.local/dev',
      audience: process.env.JWT_AUDIENCE ?? 'latchkey',
      clockToleranceSeconds: 30,
    });
    const principals = await Promise.all(results.map(({ stdout }) => verifier.verify(stdout.trim())));
    expect(principals.map((p) => p.subject).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `client-${i}`).sort(),
    );
    // Eight Node processes starting at once on two cores: on a cold disk cache, well past Jest's 5 s.
  }, 60_000);

  it('mints roles, mfa and lifetime as asked', async () => {
    const { stdout } = await token('--sub', 'alice', '--roles', 'tenant-admin,user', '--mfa', '--ttl', '15m');
    const payload = JSON.parse(Buffer.from(stdout.trim().split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({
      tid: tenantId,
      sub: 'alice',
      roles: ['tenant-admin', 'user'],
      amr: ['pwd', 'mfa'],
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(900);
  });

  it.each([
    [['--sub', 'a', '--roles', 'root'], /roles/],
    [['--sub', 'a', '--roles', 'user', '--ttl', '2d'], /ttl/],
    [['--roles', 'user'], /--sub/],
  ])('refuses %j', async (args, message) => {
    await expect(token(...args)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(message) });
  });

  it('refuses to mint in production', async () => {
    env.NODE_ENV = 'production';
    await expect(token('--sub', 'a', '--roles', 'user')).rejects.toMatchObject({
      stderr: expect.stringMatching(/not minted in production/),
    });
  });
});
