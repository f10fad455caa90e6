import type { IncomingMessage } from 'node:http';

export const ROLES = ['tenant-admin', 'user', 'hr', 'auditor', 'gateway'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as the verified token says. The tenant comes from here, never from a path or body. */
export interface Principal {
  /** The user's id (a UUID) or an opaque subject for hr, gateway and auditor clients. */
  readonly subject: string;
  readonly tenantId: string;
  readonly roles: readonly Role[];
  /** Authentication methods (`pwd`, `mfa`, …). */
  readonly amr: readonly string[];
  /** The token's `jti`, when the issuer sets one. */
  readonly tokenId?: string;
}

// Kept beside the request rather than on it, so nothing else can overwrite or forge it.
const principals = new WeakMap<IncomingMessage, Principal>();

export function attachPrincipal(req: IncomingMessage, principal: Principal): void {
  principals.set(req, principal);
}

export function principalOf(req: IncomingMessage): Principal | undefined {
  return principals.get(req);
}
