// Bearer tokens for e2e tests, signed with the development key that the API under test trusts
// (JWT_DEV_PRIVATE_KEY_FILE / JWT_PUBLIC_KEY_FILE, from the environment, .env or .env.example).
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { base64url, SignJWT, type JWTPayload } from 'jose';
import { ensureDevKeys, mintDevToken, type DevKeyFiles, type Role } from '@latchkey/access';
import { parseConfig } from '@latchkey/config';

const root = join(__dirname, '..');

export interface TokenRequest {
  tenantId: string;
  sub: string;
  roles: Role[];
  /** `amr` contains `mfa` (needed to create app passwords). */
  mfa?: boolean;
  ttlSeconds?: number;
}

function settings() {
  const { auth } = parseConfig(process.env);
  if (auth.keySource.kind !== 'pem') throw new Error('e2e tests need JWT_PUBLIC_KEY_FILE, not JWT_JWKS_URL');
  const resolve = (file: string) => (isAbsolute(file) ? file : join(root, file));
  const files: DevKeyFiles = {
    privateKeyFile: resolve(auth.devPrivateKeyFile),
    publicKeyFile: resolve(auth.keySource.file),
  };
  return { auth, files };
}

/** Creates the development key pair if missing; call before starting the API (it reads the public key). */
export function ensureTestKeys(): DevKeyFiles {
  return ensureDevKeys(settings().files);
}

/** A valid token for this tenant, subject and roles. */
export async function mintToken(request: TokenRequest): Promise<string> {
  const { auth, files } = settings();
  ensureDevKeys(files);
  return mintDevToken(files.privateKeyFile, {
    tenantId: request.tenantId,
    subject: request.sub,
    roles: request.roles,
    mfa: request.mfa,
    ttlSeconds: request.ttlSeconds,
    issuer: auth.issuer,
    audience: auth.audience,
  });
}

/**
 * Tokens the API must refuse with 401, each wrong in one way, built from a valid request: for
 * tables of hostile requests.
 */
export async function hostileTokens(request: TokenRequest): Promise<Record<string, string>> {
  const { auth, files } = settings();
  ensureDevKeys(files);
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss: auth.issuer,
    aud: auth.audience,
    sub: request.sub,
    tid: request.tenantId,
    roles: request.roles,
    amr: request.mfa ? ['pwd', 'mfa'] : ['pwd'],
    iat: now,
    exp: now + 600,
  };
  const devKey = createPrivateKey(readFileSync(files.privateKeyFile));
  const sign = (payload: JWTPayload, key = devKey) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(key);
  const publicPem = readFileSync(files.publicKeyFile);
  const part = (value: object) => base64url.encode(JSON.stringify(value));
  const valid = await sign(claims);
  return {
    expired: await sign({ ...claims, iat: now - 7200, exp: now - 3600 }),
    'not yet valid': await sign({ ...claims, nbf: now + 3600 }),
    'wrong audience': await sign({ ...claims, aud: 'another-api' }),
    'wrong issuer': await sign({ ...claims, iss: 'https://evil.example/' }),
    'signed by another key': await sign(
      claims,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    ),
    'alg none': `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`,
    'HS256 with the public key as secret': await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new Uint8Array(publicPem)),
    'no tenant': await sign({ ...claims, tid: undefined }),
    'unknown role': await sign({ ...claims, roles: ['root'] }),
    'tampered payload': `${valid.split('.')[0]}.${part({ ...claims, tid: randomUUID() })}.${valid.split('.')[2]}`,
    garbage: 'not.a.token',
  };
}
