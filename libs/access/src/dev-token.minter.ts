import { createPrivateKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import type { Role } from './principal';

export interface DevTokenRequest {
  tenantId: string;
  subject: string;
  roles: readonly Role[];
  /** Adds `mfa` to `amr`, as an issuer does after a second factor. */
  mfa?: boolean;
  /** Lifetime in seconds (default one hour). */
  ttlSeconds?: number;
  issuer: string;
  audience: string;
}

/** Longer than any real access token; the verifier refuses older tokens anyway. */
export const MAX_DEV_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** Signs a token with the development private key (ES256), for the CLI, the demo and tests. */
export async function mintDevToken(privateKeyFile: string, request: DevTokenRequest): Promise<string> {
  const ttl = request.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_DEV_TOKEN_TTL_SECONDS) {
    throw new RangeError(`ttl must be 1 to ${MAX_DEV_TOKEN_TTL_SECONDS} seconds`);
  }
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    tid: request.tenantId,
    roles: [...request.roles],
    amr: request.mfa ? ['pwd', 'mfa'] : ['pwd'],
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
    .setIssuer(request.issuer)
    .setAudience(request.audience)
    .setSubject(request.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(randomUUID())
    .sign(createPrivateKey(readFileSync(privateKeyFile)));
}

/** `90s`, `15m`, `1h`, `1d` or a number of seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,6})([smhd]?)$/.exec(text.trim());
  if (!match) throw new RangeError('ttl must look like 90s, 15m, 1h or 1d');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
