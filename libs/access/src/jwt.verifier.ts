import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ROLES, type Principal } from './principal';

/** A token we do not accept. Its message is for our logs at most; callers only learn "invalid_token". */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

/** The issuer's keys could not be fetched: our problem (503), not the caller's (401). */
export class KeySourceUnavailableError extends Error {
  override readonly name = 'KeySourceUnavailableError';
}

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
  /** Verified tokens kept so a client's next request skips the signature check (see VerifiedTokens). */
  cache?: { capacity: number; maxAgeMs: number };
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

const DEFAULT_CACHE = { capacity: 10_000, maxAgeMs: 60_000 };

/** Asymmetric algorithms only: `none` and HS* (which a public key could forge) are never accepted. */
export const ACCEPTED_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;

// Issuers mint access tokens for about an hour; a day-old token is refused even if its exp says otherwise.
const MAX_TOKEN_AGE_SECONDS = 24 * 60 * 60;

const ANY_CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** UUIDs are case-insensitive (RFC 9562); ours have one spelling, lower case, as in stream ids. */
const lowerCaseIfUuid = (value: string) => (ANY_CASE_UUID.test(value) ? value.toLowerCase() : value);

const claims = z.object({
  sub: z.string().min(1).max(256).transform(lowerCaseIfUuid),
  tid: z.uuid().transform((id) => id.toLowerCase()),
  roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
  amr: z.array(z.string().max(32)).max(16).default([]),
  jti: z.string().min(1).max(256).optional(),
});

/**
 * Verifies bearer JWTs with jose: signature by a trusted key, an accepted algorithm, issuer,
 * audience, exp/nbf/iat within the clock tolerance, and Latchkey's claims (tenant, subject, roles).
 */
export class JwtVerifier {
  private readonly verified: VerifiedTokens;
  private readonly now: () => number;

  constructor(
    private readonly key: KeyObject | JWTVerifyGetKey,
    private readonly algorithms: readonly string[],
    private readonly options: JwtVerifierOptions,
  ) {
    this.verified = new VerifiedTokens(options.cache ?? DEFAULT_CACHE);
    this.now = options.now ?? Date.now;
  }

  /** Trusts one PEM public key; the accepted algorithm follows from the key's type. */
  static fromPublicKeyPem(pem: string | Buffer, options: JwtVerifierOptions): JwtVerifier {
    const key = createPublicKey(pem);
    return new JwtVerifier(key, [algorithmOf(key)], options);
  }

  /** Trusts an issuer's JWKS: fetched on first use, cached, refetched when an unknown `kid` shows up. */
  static fromJwksUrl(
    url: string,
    options: JwtVerifierOptions,
    fetching: { timeoutMs?: number; cooldownMs?: number } = {},
  ): JwtVerifier {
    // The cooldown stops a flood of tokens with made-up key ids from hammering the issuer.
    const jwks = createRemoteJWKSet(new URL(url), {
      timeoutDuration: fetching.timeoutMs ?? 3_000,
      cooldownDuration: fetching.cooldownMs ?? 30_000,
    });
    return new JwtVerifier(jwks, ACCEPTED_ALGORITHMS, options);
  }

  async verify(token: string): Promise<Principal> {
    const now = this.now();
    const known = this.verified.get(token, now);
    if (known) return known;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keyResolver(), {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...this.algorithms],
        clockTolerance: this.options.clockToleranceSeconds,
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof KeySourceUnavailableError) throw error;
      throw new InvalidTokenError(error instanceof errors.JOSEError ? error.code : 'unreadable token');
    }
    const parsed = claims.safeParse(payload);
    if (!parsed.success) throw new InvalidTokenError('claims do not describe a Latchkey principal');
    const { sub, tid, roles, amr, jti } = parsed.data;
    const principal: Principal = Object.freeze({
      subject: sub,
      tenantId: tid,
      roles: Object.freeze(roles),
      amr: Object.freeze(amr),
      ...(jti ? { tokenId: jti } : {}),
    });
    // jose has checked exp and iat are numbers; accepted until whichever limit comes first.
    const toleranceMs = this.options.clockToleranceSeconds * 1000;
    const acceptedUntil = Math.min(
      payload.exp! * 1000 + toleranceMs,
      (payload.iat! + MAX_TOKEN_AGE_SECONDS) * 1000 + toleranceMs,
    );
    this.verified.set(token, principal, now, acceptedUntil);
    return principal;
  }

  /** Separates "this token names no key we trust" (401) from "we could not fetch the keys" (503). */
  private keyResolver(): KeyObject | JWTVerifyGetKey {
    const key = this.key;
    if (typeof key !== 'function') return key;
    return async (header, token) => {
      try {
        return await key(header, token);
      } catch (error) {
        const tokenProblem =
          error instanceof errors.JWKSNoMatchingKey ||
          error instanceof errors.JWKSMultipleMatchingKeys ||
          error instanceof errors.JOSENotSupported ||
          error instanceof errors.JWSInvalid;
        if (tokenProblem) throw error;
        throw new KeySourceUnavailableError('the issuer key set could not be fetched', { cause: error });
      }
    };
  }
}

function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048)
    return 'RS256';
  throw new Error('the public key must be EC P-256, Ed25519 or RSA (2048 bits or more)');
}

/**
 * Tokens this process has verified, so a gateway or client that sends the same bearer token on
 * every request pays the signature check (~0.2 ms of the event loop for ES256) once a minute, not
 * per request. An entry lives until the token would be refused (exp or the 24 h age limit, with the
 * same clock tolerance) or `maxAgeMs`, whichever is first; the oldest entry makes room for a new
 * one. Only exact token strings hit: a token altered in any byte is verified from scratch. The
 * price: a key withdrawn from the issuer's JWKS stops being honoured up to `maxAgeMs` later.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly limits: { capacity: number; maxAgeMs: number }) {}

  get(token: string, now: number): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now < entry.until) return entry.principal;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, principal: Principal, now: number, acceptedUntil: number): void {
    if (this.limits.capacity <= 0) return;
    this.entries.delete(token);
    while (this.entries.size >= this.limits.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { principal, until: Math.min(acceptedUntil, now + this.limits.maxAgeMs) });
  }
}
