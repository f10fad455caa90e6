import type { IncomingMessage } from 'node:http';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DependencyUnavailableError, ProblemError } from '@latchkey/problems';
import { IS_PUBLIC, REQUIRED_ROLES, REQUIRES_MFA } from './access.decorators';
import { JwtVerifier, KeySourceUnavailableError } from './jwt.verifier';
import { attachPrincipal, type Role } from './principal';

// A compact JWS: three base64url parts. Anything longer than this is not a token we issue.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 8192;

/**
 * Every route needs a valid bearer token unless marked @Public(); then @Roles and @RequireMfa are
 * checked. A missing or bad token is a 401 (RFC 6750 challenge); a valid token without the role or
 * second factor is a 403. Nothing in either answer says why a token was refused.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: JwtVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.isPublic(context)) return true;

    const req = context.switchToHttp().getRequest<IncomingMessage>();
    if (req.headers.authorization === undefined) throw unauthenticated('missing');
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) throw unauthenticated('invalid');
    const principal = await this.verifier.verify(token).catch((error: unknown) => {
      if (error instanceof KeySourceUnavailableError)
        throw new DependencyUnavailableError('The identity provider', { cause: error });
      throw unauthenticated('invalid');
    });
    attachPrincipal(req, principal);

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets);
    if (roles && !roles.some((role) => principal.roles.includes(role))) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', {
        detail: 'Your roles do not allow this request.',
      });
    }
    if (this.reflector.getAllAndOverride<boolean>(REQUIRES_MFA, targets) && !principal.amr.includes('mfa')) {
      throw new ProblemError(403, 'mfa-required', 'Multi-factor authentication required', {
        detail: 'This request needs a token issued after multi-factor authentication.',
      });
    }
    return true;
  }

  /** A handler that demands a role or mfa stays guarded even inside a @Public() class. */
  private isPublic(context: ExecutionContext): boolean {
    const [handler, controller] = [context.getHandler(), context.getClass()];
    if (this.reflector.get<boolean>(IS_PUBLIC, handler)) return true;
    const demands = this.reflector.get(REQUIRED_ROLES, handler) || this.reflector.get(REQUIRES_MFA, handler);
    return !demands && this.reflector.get<boolean>(IS_PUBLIC, controller) === true;
  }
}

/** `missing`: no credentials, so no error code in the challenge (RFC 6750 §3.1); else `invalid_token`. */
function unauthenticated(why: 'missing' | 'invalid'): ProblemError {
  return why === 'missing'
    ? new ProblemError(401, 'unauthenticated', 'Authentication required', {
        detail: 'Send a bearer token in the Authorization header.',
        headers: { 'WWW-Authenticate': 'Bearer realm="latchkey"' },
      })
    : new ProblemError(401, 'invalid-token', 'Invalid token', {
        detail: 'The bearer token is not valid.',
        headers: { 'WWW-Authenticate': 'Bearer realm="latchkey", error="invalid_token"' },
      });
}

function bearerToken(header: string): string | undefined {
  const token = /^Bearer +(\S+) *$/i.exec(header)?.[1];
  return token && token.length <= MAX_TOKEN_LENGTH && COMPACT_JWS.test(token) ? token : undefined;
}
