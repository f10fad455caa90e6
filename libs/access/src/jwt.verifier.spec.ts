import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { base64url, SignJWT, type JWTPayload } from 'jose';
import { InvalidTokenError, JwtVerifier } from './jwt.verifier';
import type { Principal } from './principal';

const issuer = 'https://issuer.test/tenant';
const audience = 'latchkey';
const options = { issuer, audience, clockToleranceSeconds: 30 };
const tenantId = '0b6a1f3e-5d5c-4a55-9d0e-6a8f0c3b2a11';
const userId = 'f1d2e3c4-b5a6-4789-9abc-def012345678';

const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicPem = ecPair.publicKey.export({ type: 'spki', format: 'pem' });
const verifier = JwtVerifier.fromPublicKeyPem(publicPem, options);
const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: issuer,
    aud: audience,
    sub: userId,
    tid: tenantId,
    roles: ['user'],
    amr: ['pwd', 'mfa'],
    iat: now(),
    exp: now() + 3600,
    ...overrides,
  };
}

function sign(payload: JWTPayload, key: KeyObject | Uint8Array = ecPair.privateKey, alg = 'ES256') {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

/** What `alg: none` looks like: no signature at all. */
function unsigned(payload: JWTPayload): string {
  const part = (value: object) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

describe('JwtVerifier', () => {
  it('accepts a well-signed token and turns it into a principal', async () => {
    const token = await sign(claims({ jti: 'token-1', roles: ['tenant-admin', 'user'] }));
    await expect(verifier.verify(token)).resolves.toEqual({
      subject: userId,
      tenantId,
      roles: ['tenant-admin', 'user'],
      amr: ['pwd', 'mfa'],
      tokenId: 'token-1',
    });
  });

  it('accepts an opaque subject for a machine client and a token without amr', async () => {
    const token = await sign(claims({ sub: 'mail-gateway-1', roles: ['gateway'], amr: undefined }));
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'mail-gateway-1', amr: [] });
  });

  it('spells a tenant id and a UUID subject in lower case, as every stream id does; an opaque subject as it is', async () => {
    const upper = await sign(claims({ sub: userId.toUpperCase(), tid: tenantId.toUpperCase() }));
    await expect(verifier.verify(upper)).resolves.toMatchObject({ subject: userId, tenantId });
    const opaque = await sign(claims({ sub: 'Mail-Gateway-1', roles: ['gateway'] }));
    await expect(verifier.verify(opaque)).resolves.toMatchObject({ subject: 'Mail-Gateway-1' });
  });

  it('tolerates a small clock skew', async () => {
    await expect(verifier.verify(await sign(claims({ exp: now() - 10 })))).resolves.toBeDefined();
  });

  const refused: [string, () => Promise<string>][] = [
    ['expired', () => sign(claims({ iat: now() - 7200, exp: now() - 120 }))],
    ['not yet valid (nbf)', () => sign(claims({ nbf: now() + 600 }))],
    ['issued in the future', () => sign(claims({ iat: now() + 600 }))],
    [
      'older than a day though exp says otherwise',
      () => sign(claims({ iat: now() - 90_000, exp: now() + 60 })),
    ],
    ['without exp', () => sign(claims({ exp: undefined }))],
    ['for another audience', () => sign(claims({ aud: 'someone-else' }))],
    ['from another issuer', () => sign(claims({ iss: 'https://evil.test/' }))],
    [
      'signed by another key',
      () => sign(claims(), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    ],
    ['unsigned (alg none)', async () => unsigned(claims())],
    [
      'forged with HS256 using the public key as the secret',
      () => sign(claims(), new TextEncoder().encode(String(publicPem)), 'HS256'),
    ],
    ['without tid', () => sign(claims({ tid: undefined }))],
    ['with a tid that is not a UUID', () => sign(claims({ tid: 'tenant-a' }))],
    ['without roles', () => sign(claims({ roles: undefined }))],
    ['with no role at all', () => sign(claims({ roles: [] }))],
    ['with a role outside the list', () => sign(claims({ roles: ['user', 'superuser'] }))],
    ['with roles as a string', () => sign(claims({ roles: 'tenant-admin' }))],
    ['without sub', () => sign(claims({ sub: undefined }))],
    ['with a signature cut off', async () => (await sign(claims())).replace(/\.[^.]+$/, '.')],
    ['that is not a JWT', async () => 'not-a-token'],
  ];

  it.each(refused)('refuses a token %s', async (_, token) => {
    await expect(verifier.verify(await token())).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('accepts only the algorithm that matches the trusted key (RS256 for RSA, not PS256)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaVerifier = JwtVerifier.fromPublicKeyPem(
      rsa.publicKey.export({ type: 'spki', format: 'pem' }),
      options,
    );
    await expect(rsaVerifier.verify(await sign(claims(), rsa.privateKey, 'RS256'))).resolves.toBeDefined();
    await expect(rsaVerifier.verify(await sign(claims(), rsa.privateKey, 'PS256'))).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it('accepts EdDSA with an Ed25519 key', async () => {
    const ed = generateKeyPairSync('ed25519');
    const edVerifier = JwtVerifier.fromPublicKeyPem(
      ed.publicKey.export({ type: 'spki', format: 'pem' }),
      options,
    );
    await expect(edVerifier.verify(await sign(claims(), ed.privateKey, 'EdDSA'))).resolves.toBeDefined();
  });

  it('refuses to trust a weak RSA key or a P-384 key at all', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(() => JwtVerifier.fromPublicKeyPem(weak, options)).toThrow(/2048/);
    expect(() => JwtVerifier.fromPublicKeyPem(p384, options)).toThrow(/P-256/);
  });
});

describe('JwtVerifier: tokens it has verified', () => {
  let clock = Date.now();
  const cached = (limits = { capacity: 2, maxAgeMs: 60_000 }) =>
    new JwtVerifier(ecPair.publicKey, ['ES256'], { ...options, cache: limits, now: () => clock });
  beforeEach(() => (clock = Date.now()));

  it('refuses a verified token once it expires, even though it was verified before', async () => {
    const verifier = cached();
    const exp = now() + 5;
    const token = await sign(claims({ exp }));
    await expect(verifier.verify(token)).resolves.toBeDefined();
    clock = (exp + 30) * 1000 - 1; // the last millisecond of the 30 s clock tolerance
    await expect(verifier.verify(token)).resolves.toBeDefined();
    clock += 1;
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a verified token once it is older than a day, whatever its exp says', async () => {
    const verifier = cached({ capacity: 2, maxAgeMs: 48 * 3600_000 });
    const iat = now();
    const token = await sign(claims({ iat, exp: iat + 48 * 3600 }));
    await expect(verifier.verify(token)).resolves.toBeDefined();
    clock = (iat + 24 * 3600 + 30) * 1000 - 1;
    await expect(verifier.verify(token)).resolves.toBeDefined();
    clock = (iat + 24 * 3600 + 31) * 1000;
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('serves an unchanged token without re-checking, and checks any altered byte from scratch', async () => {
    const verifier = cached();
    const token = await sign(claims());
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(verifier.verify(tampered)).rejects.toBeInstanceOf(InvalidTokenError);
    const forged = unsigned(claims());
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('keeps at most its capacity, dropping the oldest, and never lets a principal be altered', async () => {
    const verifier = cached();
    const tokens = await Promise.all([1, 2, 3].map((n) => sign(claims({ jti: `t${n}` }))));
    const principals: Principal[] = [];
    for (const token of tokens) principals.push(await verifier.verify(token));
    expect(await verifier.verify(tokens[2])).toBe(principals[2]);
    expect(await verifier.verify(tokens[0])).not.toBe(principals[0]); // dropped, verified anew
    expect(() => (principals[1].roles as string[]).push('tenant-admin')).toThrow(TypeError);
  });
});
