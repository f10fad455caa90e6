import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { InvalidTokenError, JwtVerifier, KeySourceUnavailableError } from './jwt.verifier';

// An external issuer on loopback: its key set is served over HTTP and can rotate or go away.
const options = { issuer: 'https://issuer.test', audience: 'latchkey', clockToleranceSeconds: 30 };
const tenantId = '0b6a1f3e-5d5c-4a55-9d0e-6a8f0c3b2a11';
const ec = (kid: string) => ({ kid, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) });

function sign(key: { kid: string; privateKey: KeyObject }) {
  return new SignJWT({ tid: tenantId, roles: ['auditor'], amr: ['pwd'] })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject('auditor-export')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

describe('JwtVerifier with a JWKS URL', () => {
  let server: Server;
  let url: string;
  let published: { kid: string; publicKey: KeyObject }[] = [];
  let fetches = 0;

  beforeAll(async () => {
    server = createServer(async (_req, res) => {
      fetches++;
      const keys = await Promise.all(
        published.map(async ({ kid, publicKey }) => ({
          ...(await exportJWK(publicKey)),
          kid,
          alg: 'ES256',
          use: 'sig',
        })),
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('verifies with a published key, follows a rotation, and refuses an unknown key id as a bad token', async () => {
    const first = ec('k1');
    const second = ec('k2');
    published = [first];
    const verifier = JwtVerifier.fromJwksUrl(url, options, { cooldownMs: 0 });

    await expect(verifier.verify(await sign(first))).resolves.toMatchObject({
      subject: 'auditor-export',
      tenantId,
    });
    await expect(verifier.verify(await sign(first))).resolves.toBeDefined();
    expect(fetches).toBe(1); // cached

    published = [first, second]; // the issuer rotates
    await expect(verifier.verify(await sign(second))).resolves.toBeDefined();

    await expect(verifier.verify(await sign(ec('never-published')))).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it('says the key source is unavailable (a 503, not a 401) when the issuer cannot be reached', async () => {
    const verifier = JwtVerifier.fromJwksUrl('http://127.0.0.1:1/keys', options, { timeoutMs: 500 });
    await expect(verifier.verify(await sign(ec('k1')))).rejects.toBeInstanceOf(KeySourceUnavailableError);
  });
});
