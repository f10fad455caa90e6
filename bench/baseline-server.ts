/**
 * The bare baseline for the verification bench: plain node:http and a pg Pool (as many connections
 * as the API's pool), the same HMAC (the application's AppPasswordHasher under the same pepper), the
 * API's own LOOKUP query text (taken from the build, see lib/lookup.ts) and the same pure sign-in
 * decision, answering the same JSON as POST /v1/sign-ins/verify. No framework, no token check, no
 * lockout writes, no recording: what any implementation must at least do, to put the API's figures in
 * proportion on the same machine.
 *
 * Environment: the usual configuration (POSTGRES_*, APP_PASSWORD_PEPPER*), BASELINE_PORT and
 * BENCH_TENANT_ID (the tenant a gateway token would name; the baseline serves that one tenant).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'pg';
import { parseConfig } from '@latchkey/config';
import { dataSourceOptions } from '@latchkey/persistence';
import {
  decideSignIn,
  initialLockoutState,
  lockStatus,
  normaliseAppPassword,
  normaliseUsername,
  type LockoutState,
  type SignInAttempt,
  type TenantPolicy,
} from '../libs/app-passwords/src/domain';
import { AppPasswordHasher } from '../libs/app-passwords/src/infrastructure/app-password-hasher';
import { applicationLookup } from './lib/lookup';

/** The columns the decision reads besides the account's own (which are passed on, camelCased). */
interface Row {
  user_id: string | null;
  policy: TenantPolicy | null;
  app_password_id: string | null;
  created_at: Date | null;
  expires_at: Date | null;
  protocols: string[] | null;
  revoked_at: Date | null;
  lockout: LockoutState | null;
  [accountColumn: string]: unknown;
}
const NOT_ACCOUNT = new Set([
  'user_id',
  'policy',
  'app_password_id',
  'created_at',
  'expires_at',
  'protocols',
  'revoked_at',
  'lockout',
]);
const camel = (column: string): string =>
  column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** The account as the decision sees it: every other column of the row (status, mfa, …), camelCased. */
function accountOf(row: Row): SignInAttempt['user'] {
  if (!row.user_id) return undefined;
  const account: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (!NOT_ACCOUNT.has(column)) account[camel(column)] = value;
  }
  return account as SignInAttempt['user'];
}

interface VerifyBody {
  username: string;
  password: string;
  protocol: string;
  action?: 'sign-in' | 'administrative';
  clientIp: string;
}

const config = parseConfig(process.env);
const port = Number(process.env.BASELINE_PORT ?? 3401);
const tenantId = process.env.BENCH_TENANT_ID ?? '';
const { host, port: pgPort, user, password, database } = config.postgres;
const pool = new Pool({
  host,
  port: pgPort,
  user,
  password,
  database,
  // As many connections as the API's own pool.
  max: (dataSourceOptions(config) as { extra?: { max?: number } }).extra?.max ?? 10,
  application_name: 'bench-baseline',
});
const hasher = new AppPasswordHasher(config.appPasswords.pepper);
const LOOKUP = applicationLookup().sql;

async function verify(body: VerifyBody): Promise<unknown> {
  const now = new Date();
  const username = normaliseUsername(body.username) ?? body.username.trim().toLowerCase().slice(0, 256);
  const hash = hasher.hash(normaliseAppPassword(body.password));
  const {
    rows: [row],
  } = await pool.query<Row>(LOOKUP, [tenantId, username, hash]);
  const lockout = row.lockout ?? initialLockoutState();
  const decision = decideSignIn({
    now,
    protocol: body.protocol,
    action: body.action ?? 'sign-in',
    lockout: lockStatus(lockout, body.clientIp, now),
    tenantPolicy: row.policy ?? undefined,
    user: accountOf(row),
    credential: row.app_password_id
      ? {
          status: row.revoked_at ? 'revoked' : 'active',
          createdAt: row.created_at!.toISOString(),
          expiresAt: row.expires_at?.toISOString() ?? null,
          protocols: row.protocols as never,
        }
      : undefined,
  });
  return decision.allowed
    ? { allowed: true, userId: row.user_id, appPasswordId: row.app_password_id, protocol: decision.protocol }
    : { allowed: false, reason: decision.reason, rule: decision.rule ?? null };
}

const isBody = (value: unknown): value is VerifyBody => {
  const v = value as Partial<VerifyBody> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.username === 'string' &&
    typeof v.password === 'string' &&
    typeof v.protocol === 'string' &&
    typeof v.clientIp === 'string'
  );
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/health') return send(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/v1/sign-ins/verify')
    return send(res, 404, { error: 'not found' });
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { error: 'invalid JSON' });
    }
    if (!isBody(body)) return send(res, 400, { error: 'invalid body' });
    verify(body).then(
      (verdict) => send(res, 200, verdict),
      (error: unknown) => send(res, 503, { error: String(error) }),
    );
  });
}

const server = createServer(handle);
server.listen(port, '127.0.0.1', () => process.stderr.write(`baseline listening on 127.0.0.1:${port}\n`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void pool.end().finally(() => process.exit(0));
  });
}
