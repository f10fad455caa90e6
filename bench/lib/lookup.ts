import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './settings';

/**
 * The API's verification read from PostgreSQL is LOOKUP in
 * libs/app-passwords/src/infrastructure/verification/verification-replica.ts (what it runs when memory
 * cannot answer; the whole lookup a server without memory does). The baseline runs that very text, taken from the built handler (dist/, what the API under test
 * runs), so the comparison stays like for like while the application changes. This copy (as of the
 * bench's writing) is used only if the build no longer has a LOOKUP template literal.
 */
export const FALLBACK_LOOKUP = `
  SELECT a.user_id, a.status, a.mfa, a.requires_modern_auth, a.sign_ins_suspended, t.policy,
         c.app_password_id, c.expires_at, c.protocols, c.revoked_at, l.state AS lockout
  FROM (SELECT $1::uuid AS tenant_id, $2::text AS username) q
  LEFT JOIN tenants t ON t.tenant_id = q.tenant_id
  LEFT JOIN accounts a ON a.tenant_id = q.tenant_id AND a.username = q.username AND a.status <> 'deleted'
  LEFT JOIN credentials c ON c.verifier_hash = $3 AND c.user_id = a.user_id
  LEFT JOIN sign_in_lockouts l ON l.tenant_id = q.tenant_id AND l.username = q.username`;

const BUILT_HANDLER = 'dist/libs/app-passwords/src/infrastructure/verification/verification-replica.js';

/** The API's LOOKUP from the build, or the fallback copy; `fromApplication` says which. */
export function applicationLookup(): { sql: string; fromApplication: boolean } {
  const file = join(ROOT, BUILT_HANDLER);
  const found = existsSync(file) ? /LOOKUP = `([^`]*)`/.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
  return found === undefined
    ? { sql: FALLBACK_LOOKUP, fromApplication: false }
    : { sql: found, fromApplication: true };
}
