import { isIP } from 'node:net';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const nonEmpty = z.string().trim().min(1);
const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const NAMED_PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
const isAddressOrRange = (entry: string): boolean => {
  if (NAMED_PROXY_RANGES.includes(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};
/**
 * Which peers may say, in X-Forwarded-For, whom they forward for (Express's `trust proxy`): `false`
 * (no one: the client address is the socket's), a number of proxy hops in front of the API, or a
 * comma-separated list of addresses, CIDR ranges and Express's names for ranges. Never "true": that
 * would let every client choose the address its rate limit and its leak reports are recorded under.
 */
const trustProxy = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    if (value === 'false' || /^[1-9]$/.test(value)) return;
    if (value === 'true' || value === '*')
      ctx.addIssue({
        code: 'custom',
        message:
          'trusting every peer lets any client choose its address: name the proxies or their hop count',
      });
    else if (!value.split(',').every((entry) => isAddressOrRange(entry.trim())))
      ctx.addIssue({
        code: 'custom',
        message: `expected false, a hop count 1-9, or addresses, CIDR ranges, ${NAMED_PROXY_RANGES.join(', ')}`,
      });
  })
  .transform((value): false | number | string[] =>
    value === 'false' ? false : /^\d$/.test(value) ? Number(value) : value.split(',').map((e) => e.trim()),
  );
const optional = (schema: z.ZodType<string>) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
// A key set is fetched over TLS; plain http only to a loopback issuer (tests, a local identity provider).
const jwksUrl = z.url({ protocol: /^https?$/ }).refine((url) => {
  const { protocol, hostname } = new URL(url);
  return protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}, 'expected an https:// URL (http:// only on loopback)');

/** Where the development key pair lives unless JWT_PUBLIC_KEY_FILE / JWT_DEV_PRIVATE_KEY_FILE say otherwise. */
export const DEV_KEY_DIR = '.stack/dev-keys';
export const DEV_PUBLIC_KEY_FILE = `${DEV_KEY_DIR}/jwt-dev.public.pem`;
export const DEV_PRIVATE_KEY_FILE = `${DEV_KEY_DIR}/jwt-dev.private.pem`;

/**
 * Every variable the processes read, validated once at start-up. Names are the environment's;
 * `.env.example` documents each one. The parsed result is grouped by the part of the system it serves.
 */
const environment = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  API_PORT: port.default(3000),
  TRUST_PROXY: z.preprocess((value) => (value === '' ? undefined : value), trustProxy.default(false)),
  WORKER_HEALTH_PORT: port.default(3001),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),

  POSTGRES_HOST: nonEmpty,
  POSTGRES_PORT: port,
  POSTGRES_USER: nonEmpty,
  POSTGRES_PASSWORD: nonEmpty,
  POSTGRES_DB: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case PostgreSQL identifier'),

  REDIS_HOST: nonEmpty,
  REDIS_PORT: port,
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,40}$/, 'expected letters, digits, ":", "_" or "-"')
    .default('latchkey'),

  KAFKA_BROKERS: z
    .string()
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(hostPort).min(1)),
  KAFKA_CLIENT_ID: nonEmpty.default('latchkey'),
  KAFKA_EVENTS_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a Kafka topic name')
    .default('latchkey.events'),
  // Which process publishes the outbox to Kafka and feeds the Kafka read models: `api` (every API
  // instance competes for it; a lone API does everything) or `sync-worker` (the API's event loop is
  // left to requests: a verification-heavy deployment's choice). Every process must be given the same.
  EVENT_RELAY_IN: z.enum(['api', 'sync-worker']).default('api'),

  // ≥ 32 random bytes, base64; generate with: openssl rand -base64 32
  APP_PASSWORD_PEPPER: z
    .string()
    .transform((value) => Buffer.from(value, 'base64'))
    .refine((key) => key.length >= 32, 'expected at least 32 bytes, base64-encoded'),
  APP_PASSWORD_PEPPER_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a short key id')
    .default('pepper-1'),
  // Encrypts directory bind passwords and HR webhook secrets at rest: exactly 32 bytes, base64.
  DIRECTORY_SECRET_KEY: z
    .string()
    .transform((value) => Buffer.from(value, 'base64'))
    .refine((key) => key.length === 32, 'expected exactly 32 bytes, base64-encoded'),
  DIRECTORY_SECRET_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected a short key id')
    .default('dir-1'),
  SYNC_POLL_INTERVAL_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),

  LDAP_URL: z
    .string()
    .regex(/^ldaps:\/\/[^\s/]+(:\d{1,5})?\/?$/, 'expected ldaps://host[:port] (simple binds need TLS)'),
  LDAP_CA_FILE: nonEmpty,
  LDAP_BASE_DN: nonEmpty,
  LDAP_BIND_DN: nonEmpty,
  LDAP_BIND_PASSWORD: nonEmpty,

  JWT_ISSUER: nonEmpty.default('https://latchkey.local/dev'),
  JWT_AUDIENCE: nonEmpty.default('latchkey'),
  JWT_JWKS_URL: optional(jwksUrl),
  JWT_PUBLIC_KEY_FILE: optional(nonEmpty),
  JWT_DEV_PRIVATE_KEY_FILE: nonEmpty.default(DEV_PRIVATE_KEY_FILE),
  JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),

  // The web console (/console/): sign-in by OpenID Connect (authorization code + PKCE) against this
  // issuer, as a public client; unset, the console offers no OIDC sign-in.
  CONSOLE_OIDC_ISSUER: optional(jwksUrl),
  CONSOLE_OIDC_CLIENT_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'expected a client id of visible ASCII characters')
    .default('latchkey-console'),
  CONSOLE_OIDC_SCOPE: z
    .string()
    .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'expected space-separated scopes')
    .default('openid'),
  // An RFC 8707 resource indicator for the API, for issuers that need one to mint a JWT access token.
  CONSOLE_OIDC_RESOURCE: optional(z.url()),
  // Development sign-in: the console mints a short-lived token for CONSOLE_DEV_TENANT_ID with the
  // development key, for a role chosen on the page. Off unless "true"; refused in production.
  CONSOLE_DEV_SIGN_IN: z.enum(['true', 'false']).default('false'),
  CONSOLE_DEV_TENANT_ID: optional(
    z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'expected a UUID'),
  ),
});

/** Exactly one source of verification keys; outside production the development public key is the default. */
function checkKeySource(env: z.output<typeof environment>, ctx: z.RefinementCtx): void {
  if (env.JWT_JWKS_URL !== undefined && env.JWT_PUBLIC_KEY_FILE !== undefined) {
    for (const variable of ['JWT_JWKS_URL', 'JWT_PUBLIC_KEY_FILE'])
      ctx.addIssue({
        code: 'custom',
        path: [variable],
        message: 'set only one of JWT_JWKS_URL and JWT_PUBLIC_KEY_FILE',
      });
  }
  if (
    env.NODE_ENV === 'production' &&
    env.JWT_JWKS_URL === undefined &&
    env.JWT_PUBLIC_KEY_FILE === undefined
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['JWT_JWKS_URL'],
      message:
        'production needs JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE (the development key is not trusted there)',
    });
  }
}

/** The console's development sign-in mints tokens with the development key: never in production. */
function checkDevSignIn(env: z.output<typeof environment>, ctx: z.RefinementCtx): void {
  if (env.CONSOLE_DEV_SIGN_IN !== 'true') return;
  const refuse = (message: string, variable = 'CONSOLE_DEV_SIGN_IN') =>
    ctx.addIssue({ code: 'custom', path: [variable], message });
  if (env.NODE_ENV === 'production') refuse('the development sign-in is never available in production');
  if (env.JWT_JWKS_URL !== undefined)
    refuse('the development sign-in needs the development key (JWT_PUBLIC_KEY_FILE), not JWT_JWKS_URL');
  if (env.CONSOLE_DEV_TENANT_ID === undefined)
    refuse('the development sign-in needs the tenant it signs in to', 'CONSOLE_DEV_TENANT_ID');
}

export const configSchema = environment
  .superRefine(checkKeySource)
  .superRefine(checkDevSignIn)
  .transform((env) => ({
    env: env.NODE_ENV,
    api: { port: env.API_PORT, trustProxy: env.TRUST_PROXY },
    worker: { healthPort: env.WORKER_HEALTH_PORT },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    postgres: {
      host: env.POSTGRES_HOST,
      port: env.POSTGRES_PORT,
      user: env.POSTGRES_USER,
      password: env.POSTGRES_PASSWORD,
      database: env.POSTGRES_DB,
    },
    redis: { host: env.REDIS_HOST, port: env.REDIS_PORT, prefix: env.REDIS_PREFIX },
    kafka: {
      brokers: env.KAFKA_BROKERS,
      clientId: env.KAFKA_CLIENT_ID,
      eventsTopic: env.KAFKA_EVENTS_TOPIC,
      relayIn: env.EVENT_RELAY_IN,
    },
    appPasswords: { pepper: { key: env.APP_PASSWORD_PEPPER, keyId: env.APP_PASSWORD_PEPPER_ID } },
    secrets: { key: env.DIRECTORY_SECRET_KEY, keyId: env.DIRECTORY_SECRET_KEY_ID },
    sync: { pollIntervalMs: env.SYNC_POLL_INTERVAL_MS },
    directory: {
      url: env.LDAP_URL,
      caFile: env.LDAP_CA_FILE,
      baseDn: env.LDAP_BASE_DN,
      bindDn: env.LDAP_BIND_DN,
      bindPassword: env.LDAP_BIND_PASSWORD,
    },
    auth: {
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      keySource: env.JWT_JWKS_URL
        ? { kind: 'jwks' as const, url: env.JWT_JWKS_URL }
        : { kind: 'pem' as const, file: env.JWT_PUBLIC_KEY_FILE ?? DEV_PUBLIC_KEY_FILE },
      devPrivateKeyFile: env.JWT_DEV_PRIVATE_KEY_FILE,
      clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_S,
    },
    console: {
      oidc: env.CONSOLE_OIDC_ISSUER
        ? {
            issuer: env.CONSOLE_OIDC_ISSUER,
            clientId: env.CONSOLE_OIDC_CLIENT_ID,
            scope: env.CONSOLE_OIDC_SCOPE,
            resource: env.CONSOLE_OIDC_RESOURCE ?? null,
          }
        : null,
      devSignIn:
        env.CONSOLE_DEV_SIGN_IN === 'true' && env.CONSOLE_DEV_TENANT_ID
          ? { tenantId: env.CONSOLE_DEV_TENANT_ID }
          : null,
    },
  }));

export type ParsedConfig = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment, or throws a ConfigError naming every bad or missing variable. The
 * message never echoes a value: a bad value may be a secret.
 */
export function parseConfig(env: Record<string, string | undefined>): ParsedConfig {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '?');
    // A cross-variable rule explains itself even when the variable it names is absent.
    const missing = issue.code === 'custom' ? `is missing: ${issue.message}` : 'is missing';
    const reason = env[variable] === undefined ? missing : `is invalid: ${issue.message}`;
    return `  ${variable} ${reason}`;
  });
  throw new ConfigError(`Invalid configuration (see .env.example):\n${problems.join('\n')}`);
}
