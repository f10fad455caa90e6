import { resolve } from 'node:path';
import { ensureDevKeys, mintDevToken, type Role } from '@latchkey/access';
import type { ParsedConfig } from '@latchkey/config';
import { ROOT } from './settings';

/** A bearer token signed with the development key that the API trusts (as `cli token` mints it). */
export async function mintToken(
  config: ParsedConfig,
  request: { tenantId: string; subject: string; roles: Role[]; mfa?: boolean },
): Promise<string> {
  const { auth } = config;
  if (auth.keySource.kind !== 'pem') throw new Error('benches need JWT_PUBLIC_KEY_FILE, not JWT_JWKS_URL');
  const files = ensureDevKeys({
    privateKeyFile: resolve(ROOT, auth.devPrivateKeyFile),
    publicKeyFile: resolve(ROOT, auth.keySource.file),
  });
  return mintDevToken(files.privateKeyFile, {
    ...request,
    ttlSeconds: 4 * 3600,
    issuer: auth.issuer,
    audience: auth.audience,
  });
}
