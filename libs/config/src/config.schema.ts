import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const nonEmpty = z.string().trim().min(1);
const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');

/**
 * Every variable the processes read, validated once at start-up. Names are the environment's;
 * `.env.example` documents each one. The parsed result is grouped by the part of the system it serves.
 */
const environment = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  API_PORT: port.default(3000),
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

  LDAP_URL: z
    .string()
    .regex(/^ldaps:\/\/[^\s/]+(:\d{1,5})?\/?$/, 'expected ldaps://host[:port] (simple binds need TLS)'),
  LDAP_CA_FILE: nonEmpty,
  LDAP_BASE_DN: nonEmpty,
  LDAP_BIND_DN: nonEmpty,
  LDAP_BIND_PASSWORD: nonEmpty,
});

export const configSchema = environment.transform((env) => ({
  env: env.NODE_ENV,
  api: { port: env.API_PORT },
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
  kafka: { brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID },
  directory: {
    url: env.LDAP_URL,
    caFile: env.LDAP_CA_FILE,
    baseDn: env.LDAP_BASE_DN,
    bindDn: env.LDAP_BIND_DN,
    bindPassword: env.LDAP_BIND_PASSWORD,
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
    const reason = env[variable] === undefined ? 'is missing' : `is invalid: ${issue.message}`;
    return `  ${variable} ${reason}`;
  });
  throw new ConfigError(`Invalid configuration (see .env.example):\n${problems.join('\n')}`);
}
