import { recordLastUse, SIGN_IN_EVENT_TYPES, upsertSignInActivity } from '@latchkey/app-passwords';
import { SIGN_IN_ACTIVITY_PROJECTION, type ReadModelName } from './read-models';

/** What the projections need of a connection: TypeORM's QueryRunner and EntityManager both fit. */
export interface Sql {
  query(sql: string, parameters?: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * The event types the credentials model projects: CredentialsProjection's switch, one for one. A new
 * tenant or user event type must be added here and to the statements below (a test compares this list
 * with the domain's, so a forgotten one fails there rather than in a rebuild).
 */
export const TENANT_TYPES = ['TenantCreated', 'TenantPolicyChanged'] as const;
export const USER_TYPES = [
  'UserProvisioned',
  'UserDisabled',
  'UserEnabled',
  'UserDeleted',
  'UserRenamed',
  'UserSignInsSuspended',
  'UserSignInsResumed',
  'UserMfaStateChanged',
  'MfaRegistrationCompleted',
  'UserModernAuthRequirementChanged',
  'UserPasswordReset',
  'AppPasswordCreated',
  'AppPasswordRevoked',
] as const;
export const CREDENTIAL_TYPES: readonly string[] = [...TENANT_TYPES, ...USER_TYPES];
const SIGN_IN_TYPES: readonly string[] = [SIGN_IN_EVENT_TYPES.allowed, SIGN_IN_EVENT_TYPES.refused];

/** The event types whose data a set of models reads. */
export function typesOf(models: readonly ReadModelName[]): string[] {
  const types = new Set<string>();
  if (models.includes('credentials')) CREDENTIAL_TYPES.forEach((t) => types.add(t));
  if (models.includes('sign-in-activity')) SIGN_IN_TYPES.forEach((t) => types.add(t));
  return [...types];
}

/**
 * One batch of events, staged once in a temporary table (no WAL, gone with the session) so that each
 * model's statement reads it instead of the events table again. Rows of other types keep only their
 * position: the rebuild counts them to find gaps in the sequence.
 */
export const STAGING = 'replay_batch';

export async function createStaging(sql: Sql): Promise<void> {
  await sql.query(`
    CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (
      seq          bigint      NOT NULL,
      stream_id    text,
      version      integer,
      type         text        NOT NULL,
      tenant_id    uuid,
      data         jsonb,
      occurred_at  timestamptz
    )`);
}

/**
 * Projects the staged batch into the tables the search path finds first, as the inline projections
 * would have written them event by event in sequence order, in a few statements:
 * - a row created by an event is inserted once (the first creation, as ON CONFLICT DO NOTHING keeps);
 * - a row changed by several events of the batch takes, per column group, the value of the last
 *   event (by stream version) that sets it, and the stream version and instant of the last event of
 *   all; like the inline `stream_version < version` guard, only events newer than the row count;
 * - a revocation keeps the first one (the inline `revoked_at IS NULL` guard);
 * - usage and activity are sums, merged with what earlier batches wrote exactly as the live ones are.
 * Statement order follows the foreign keys: tenants, accounts, credentials, then usage.
 */
export async function projectStagedBatch(sql: Sql, models: readonly ReadModelName[]): Promise<void> {
  if (models.includes('credentials')) {
    for (const statement of CREDENTIAL_STATEMENTS) await sql.query(statement);
  }
  if (models.includes('sign-in-activity')) {
    await sql.query(USAGE_STATEMENT);
    await sql.query(ACTIVITY_STATEMENT);
    await sql.query(ACTIVITY_POSITIONS_STATEMENT, [SIGN_IN_ACTIVITY_PROJECTION]);
  }
}

/** The usage and activity statements alone: sums that do not depend on the order of rows. */
export async function projectStagedSums(sql: Sql, models: readonly ReadModelName[]): Promise<void> {
  await projectStagedBatch(
    sql,
    models.filter((model) => model !== 'credentials'),
  );
}

const list = (types: readonly string[]) => types.map((t) => `'${t}'`).join(', ');

const CREDENTIAL_STATEMENTS = [
  `INSERT INTO tenants (tenant_id, name, policy, stream_version, created_at, updated_at)
   SELECT DISTINCT ON (tid) tid, data ->> 'name', data -> 'policy', version, occurred_at, occurred_at
   FROM (SELECT (data ->> 'tenantId')::uuid AS tid, * FROM ${STAGING} WHERE type = 'TenantCreated') AS created
   ORDER BY tid, seq
   ON CONFLICT (tenant_id) DO NOTHING`,

  `UPDATE tenants t SET policy = c.policy, stream_version = c.version, updated_at = c.occurred_at
   FROM (SELECT DISTINCT ON (tid) tid, data -> 'policy' AS policy, version, occurred_at
         FROM (SELECT (data ->> 'tenantId')::uuid AS tid, * FROM ${STAGING}
               WHERE type = 'TenantPolicyChanged') AS changed
         ORDER BY tid, version DESC) AS c
   WHERE t.tenant_id = c.tid AND t.stream_version < c.version`,

  `INSERT INTO accounts (user_id, tenant_id, username, source, status, mfa, requires_modern_auth, roles,
     stream_version, created_at, updated_at)
   SELECT DISTINCT ON (uid) uid, (data ->> 'tenantId')::uuid, data ->> 'username', data ->> 'source', 'active',
     data ->> 'mfa', (data ->> 'requiresModernAuth')::boolean,
     ARRAY(SELECT jsonb_array_elements_text(data -> 'roles')), version, occurred_at, occurred_at
   FROM (SELECT (data ->> 'userId')::uuid AS uid, * FROM ${STAGING} WHERE type = 'UserProvisioned') AS provisioned
   ORDER BY uid, seq
   ON CONFLICT (user_id) DO NOTHING`,

  `INSERT INTO credentials (app_password_id, user_id, tenant_id, name, protocols, verifier_key_id,
     verifier_hash, created_at, expires_at)
   SELECT DISTINCT ON (pid) pid, (data ->> 'userId')::uuid, tenant_id, data ->> 'name',
     CASE WHEN jsonb_typeof(data -> 'protocols') = 'array'
          THEN ARRAY(SELECT jsonb_array_elements_text(data -> 'protocols')) END,
     data -> 'verifier' ->> 'keyId', decode(data -> 'verifier' ->> 'hash', 'base64'),
     (data ->> 'createdAt')::timestamptz, (data ->> 'expiresAt')::timestamptz
   FROM (SELECT (data ->> 'appPasswordId')::uuid AS pid, * FROM ${STAGING} WHERE type = 'AppPasswordCreated') AS created
   ORDER BY pid, seq
   ON CONFLICT (app_password_id) DO NOTHING`,

  `UPDATE credentials c SET revoked_at = r.revoked_at, revoked_reason = r.reason
   FROM (SELECT DISTINCT ON (pid) pid, (data ->> 'revokedAt')::timestamptz AS revoked_at, data ->> 'reason' AS reason
         FROM (SELECT (data ->> 'appPasswordId')::uuid AS pid, * FROM ${STAGING}
               WHERE type = 'AppPasswordRevoked') AS revoked
         ORDER BY pid, seq) AS r
   WHERE c.app_password_id = r.pid AND c.revoked_at IS NULL`,

  // Every user event moves the account's stream version (CredentialsProjection.updateAccount); the
  // ones that also set a column set it to their value, the last such event of the batch winning.
  `UPDATE accounts a SET
     status = coalesce(c.status, a.status),
     username = coalesce(c.username, a.username),
     sign_ins_suspended = coalesce(c.suspended, a.sign_ins_suspended),
     mfa = coalesce(c.mfa, a.mfa),
     mfa_registered = a.mfa_registered OR c.mfa_registered,
     requires_modern_auth = coalesce(c.modern, a.requires_modern_auth),
     stream_version = c.version,
     updated_at = c.occurred_at
   FROM (
     SELECT e.uid,
       (array_agg(e.status ORDER BY e.version DESC) FILTER (WHERE e.status IS NOT NULL))[1] AS status,
       (array_agg(e.username ORDER BY e.version DESC) FILTER (WHERE e.username IS NOT NULL))[1] AS username,
       (array_agg(e.suspended ORDER BY e.version DESC) FILTER (WHERE e.suspended IS NOT NULL))[1] AS suspended,
       (array_agg(e.mfa ORDER BY e.version DESC) FILTER (WHERE e.mfa IS NOT NULL))[1] AS mfa,
       bool_or(e.type = 'MfaRegistrationCompleted') AS mfa_registered,
       (array_agg(e.modern ORDER BY e.version DESC) FILTER (WHERE e.modern IS NOT NULL))[1] AS modern,
       max(e.version) AS version,
       (array_agg(e.occurred_at ORDER BY e.version DESC))[1] AS occurred_at
     FROM (
       SELECT (data ->> 'userId')::uuid AS uid, version, type, occurred_at,
         CASE type WHEN 'UserDisabled' THEN 'disabled' WHEN 'UserEnabled' THEN 'active'
                   WHEN 'UserDeleted' THEN 'deleted' END AS status,
         CASE WHEN type = 'UserRenamed' THEN data ->> 'username' END AS username,
         CASE type WHEN 'UserSignInsSuspended' THEN true WHEN 'UserSignInsResumed' THEN false END AS suspended,
         CASE WHEN type = 'UserMfaStateChanged' THEN data ->> 'mfa' END AS mfa,
         CASE WHEN type = 'UserModernAuthRequirementChanged'
              THEN (data ->> 'requiresModernAuth')::boolean END AS modern
       FROM ${STAGING} WHERE type IN (${list(USER_TYPES)})) AS e
     JOIN accounts current ON current.user_id = e.uid AND e.version > current.stream_version
     GROUP BY e.uid) AS c
   WHERE a.user_id = c.uid`,
];

/** B7, with the very statement the sign-in-activity projection runs over each batch it consumes. */
const USAGE_STATEMENT = recordLastUse(STAGING);

/**
 * R9, as signInActivityProjection counts: per tenant, username (as presented) and UTC day of the
 * attempt; refusals also per reason; merged into an existing row by the same sums.
 */
const ACTIVITY_STATEMENT = upsertSignInActivity(`
  SELECT tenant_id, username, day, sum(allowed)::int, sum(refused)::int,
         coalesce(jsonb_object_agg(reason, by_reason) FILTER (WHERE by_reason > 0), '{}'::jsonb),
         max(last_attempt_at)
  FROM (SELECT tenant_id, username, day, reason,
               count(*) FILTER (WHERE type = '${SIGN_IN_EVENT_TYPES.allowed}') AS allowed,
               count(*) FILTER (WHERE type <> '${SIGN_IN_EVENT_TYPES.allowed}') AS refused,
               count(*) FILTER (WHERE type <> '${SIGN_IN_EVENT_TYPES.allowed}' AND reason <> '') AS by_reason,
               max(attempted_at) AS last_attempt_at
        FROM (SELECT tenant_id, type, data ->> 'username' AS username,
                     left(data ->> 'attemptedAt', 10)::date AS day,
                     (data ->> 'attemptedAt')::timestamptz AS attempted_at, data ->> 'reason' AS reason
              FROM ${STAGING} WHERE type IN (${list(SIGN_IN_TYPES)})) AS attempts
        GROUP BY tenant_id, username, day, reason) AS per_reason
  GROUP BY tenant_id, username, day
  ORDER BY 1, 2, 3`);

/** applyOnce's bookkeeping: per sign-in stream, the newest version counted. */
const ACTIVITY_POSITIONS_STATEMENT = `
  INSERT INTO projection_stream_positions (projection, stream_id, version)
  SELECT $1, stream_id, max(version) FROM ${STAGING} WHERE type IN (${list(SIGN_IN_TYPES)})
  GROUP BY stream_id ORDER BY stream_id
  ON CONFLICT (projection, stream_id) DO UPDATE SET version = EXCLUDED.version
    WHERE projection_stream_positions.version < EXCLUDED.version`;
