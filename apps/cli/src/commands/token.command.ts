import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { devPublicKeyPem, ensureDevKeys, mintDevToken, parseTtl, ROLES, type Role } from '@latchkey/access';
import { loadConfig } from '../load-config';

interface TokenOptions {
  tenant: string;
  sub: string;
  roles: Role[];
  mfa?: boolean;
  ttl: number;
}

/**
 * `token`: prints a bearer token signed with the development key, for the demo tenant and tests.
 * Production trusts an external issuer, so this refuses to run there.
 */
export function tokenCommand(): Command {
  return new Command('token')
    .description('print a development bearer token (ES256, signed with JWT_DEV_PRIVATE_KEY_FILE)')
    .requiredOption('--tenant <uuid>', 'tenant id (the token’s tid)', parse(z.uuid(), 'expected a UUID'))
    .requiredOption(
      '--sub <id>',
      'subject: a user id, or a client name for hr, gateway and auditor',
      parse(z.string().min(1).max(256), 'expected 1 to 256 characters'),
    )
    .addOption(
      new Option('--roles <list>', `comma-separated roles: ${ROLES.join(', ')}`)
        .argParser(parseRoles)
        .makeOptionMandatory(),
    )
    .option('--mfa', 'the token says the user completed multi-factor authentication (amr: pwd, mfa)')
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 1h (at most 1d)', parseDuration, 3600)
    .action(async (options: TokenOptions) => {
      const { env, auth } = await loadConfig();
      if (env === 'production') throw new Error('development tokens are not minted in production');
      if (auth.keySource.kind === 'jwks') {
        throw new Error('the API trusts JWT_JWKS_URL, so it would refuse a development token');
      }
      ensureDevKeys({ privateKeyFile: auth.devPrivateKeyFile, publicKeyFile: auth.keySource.file });
      if (devPublicKeyPem(auth.devPrivateKeyFile) !== readFileSync(auth.keySource.file, 'utf8')) {
        console.error('warning: JWT_PUBLIC_KEY_FILE is not the public half of JWT_DEV_PRIVATE_KEY_FILE');
      }
      const token = await mintDevToken(auth.devPrivateKeyFile, {
        tenantId: options.tenant,
        subject: options.sub,
        roles: options.roles,
        mfa: options.mfa,
        ttlSeconds: options.ttl,
        issuer: auth.issuer,
        audience: auth.audience,
      });
      console.log(token);
    });
}

function parse(schema: z.ZodType<string>, message: string) {
  return (value: string): string => {
    if (!schema.safeParse(value).success) throw new InvalidArgumentError(message);
    return value;
  };
}

function parseRoles(value: string): Role[] {
  const roles = value.split(',').map((role) => role.trim());
  const parsed = z.array(z.enum(ROLES)).min(1).safeParse(roles);
  if (!parsed.success)
    throw new InvalidArgumentError(`expected a comma-separated list of ${ROLES.join(', ')}`);
  return [...new Set(parsed.data)];
}

function parseDuration(value: string): number {
  try {
    const seconds = parseTtl(value);
    if (seconds < 1 || seconds > 86_400) throw new RangeError('ttl must be 1s to 1d');
    return seconds;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
