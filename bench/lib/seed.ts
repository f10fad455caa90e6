import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Actor } from '@latchkey/event-store';
import {
  EVENT_SCHEMA_VERSIONS,
  generateAppPassword,
  tenantDecider,
  tenantStreamId,
  userDecider,
  userStreamId,
  type AppPasswordsEvent,
  type Decider,
  type TenantPolicy,
  type TenantPolicyPatch,
  type TenantState,
  type UserCommand,
  type UserState,
} from '../../libs/app-passwords/src/domain';
import { AppPasswordHasher } from '../../libs/app-passwords/src/infrastructure/app-password-hasher';

/**
 * Bulk seeding through the real domain: every event is decided by the real deciders (tenant, user)
 * from real commands, every verifier comes from the real hasher, and the rows are what the event store
 * and the inline projection (CredentialsProjection) would have written had each command gone through
 * the API one by one — only written with a few big multi-row statements in one transaction.
 * `checkProjectionSample` (projection-check.ts) proves the projection rows against the real projection.
 *
 * One deliberate difference: the seed writes no outbox rows (as if already published). A bulk import
 * relays nothing to Kafka, so the benches' relay does not spend its first minutes on 600,000 old events.
 */

export interface SeededUser {
  userId: string;
  username: string;
  clientIp: string;
  /** The app passwords as shown to the user once (`lkab cdef …`). */
  passwords: string[];
}

interface EventRow {
  streamId: string;
  version: number;
  type: AppPasswordsEvent['type'];
  tenantId: string;
  actor: Actor;
  data: unknown;
  occurredAt: Date;
}

interface StreamRow {
  id: string;
  type: 'tenant' | 'user';
  tenantId: string;
  version: number;
}

interface AccountRow {
  userId: string;
  tenantId: string;
  username: string;
  source: string;
  status: string;
  mfa: string;
  mfaRegistered: boolean;
  requiresModernAuth: boolean;
  roles: string[];
  streamVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

interface CredentialRow {
  appPasswordId: string;
  userId: string;
  tenantId: string;
  name: string;
  protocols: string[] | null;
  verifierKeyId: string;
  verifierHash: string;
  createdAt: string;
  expiresAt: string | null;
}

/** What one batch of commands appends and projects. */
class Rows {
  readonly events: EventRow[] = [];
  readonly streams: StreamRow[] = [];
  readonly accounts = new Map<string, AccountRow>();
  readonly credentials: CredentialRow[] = [];
  tenant?: { tenantId: string; name: string; policy: TenantPolicy; version: number; at: Date };

  get size(): number {
    return this.events.length;
  }

  /**
   * The inline projection's effect, for the event types a seed produces (any other type is refused,
   * so that a seed can never silently write something the projection would not).
   */
  project(event: AppPasswordsEvent, row: EventRow): void {
    const account = (userId: string): AccountRow => {
      const found = this.accounts.get(userId);
      if (!found) throw new Error(`seed: ${event.type} before UserProvisioned`);
      return found;
    };
    switch (event.type) {
      case 'TenantCreated':
        this.tenant = { ...event.data, version: row.version, at: row.occurredAt };
        return;
      case 'UserProvisioned': {
        const d = event.data;
        this.accounts.set(d.userId, {
          userId: d.userId,
          tenantId: d.tenantId,
          username: d.username,
          source: d.source,
          status: 'active',
          mfa: d.mfa,
          mfaRegistered: false,
          requiresModernAuth: d.requiresModernAuth,
          roles: d.roles,
          streamVersion: row.version,
          createdAt: row.occurredAt,
          updatedAt: row.occurredAt,
        });
        return;
      }
      case 'MfaRegistrationCompleted': {
        const a = account(event.data.userId);
        Object.assign(a, { mfaRegistered: true, streamVersion: row.version, updatedAt: row.occurredAt });
        return;
      }
      case 'AppPasswordCreated': {
        const d = event.data;
        this.credentials.push({
          appPasswordId: d.appPasswordId,
          userId: d.userId,
          tenantId: row.tenantId,
          name: d.name,
          protocols: d.protocols,
          verifierKeyId: d.verifier.keyId,
          verifierHash: d.verifier.hash,
          createdAt: d.createdAt,
          expiresAt: d.expiresAt,
        });
        Object.assign(account(d.userId), { streamVersion: row.version, updatedAt: row.occurredAt });
        return;
      }
      default:
        throw new Error(`seed: no bulk projection for ${event.type}`);
    }
  }

  /** Runs commands against one new stream as EventSourcedStreams would: decide, evolve, append. */
  run<Command extends { metadata: { now: Date } }, State, Event extends AppPasswordsEvent>(
    stream: Omit<StreamRow, 'version'>,
    decider: Decider<Command, State, Event>,
    steps: { command: Command; actor: Actor }[],
  ): State {
    let state = decider.initialState();
    let version = 0;
    for (const { command, actor } of steps) {
      const events = decider.decide(command, state);
      for (const event of events) {
        version += 1;
        const row: EventRow = {
          streamId: stream.id,
          version,
          type: event.type,
          tenantId: stream.tenantId,
          actor,
          data: event.data,
          occurredAt: command.metadata.now,
        };
        this.events.push(row);
        this.project(event, row);
      }
      state = events.reduce(decider.evolve, state);
    }
    this.streams.push({ ...stream, version });
    return state;
  }
}

const ADMIN: Actor = { kind: 'admin', id: 'bench-admin' };

/** A tenant stream with TenantCreated, policy as asked. Returns its policy. */
export function tenantRows(
  rows: Rows,
  tenantId: string,
  name: string,
  policy: TenantPolicyPatch,
): TenantPolicy {
  const state: TenantState = rows.run(
    { id: tenantStreamId(tenantId), type: 'tenant', tenantId },
    tenantDecider,
    [
      {
        command: { type: 'CreateTenant', data: { tenantId, name, policy }, metadata: { now: new Date() } },
        actor: ADMIN,
      },
    ],
  );
  if (state.status !== 'created') throw new Error('seed: the tenant was not created');
  return state.policy;
}

/**
 * A cloud-only user with MFA on and registered (as an admin provisions them and the user completes
 * registration), then `appPasswords` app passwords created by the user, each from a fresh secret.
 */
export function userRows(
  rows: Rows,
  hasher: AppPasswordHasher,
  user: {
    tenantId: string;
    tenantPolicy: TenantPolicy;
    username: string;
    clientIp: string;
    appPasswords: number;
  },
): SeededUser {
  const userId = randomUUID();
  const { tenantId, tenantPolicy } = user;
  const self: Actor = { kind: 'user', id: userId };
  const passwords: string[] = [];
  const at = () => ({ now: new Date() });
  const steps: { command: UserCommand; actor: Actor }[] = [
    {
      command: {
        type: 'ProvisionUser',
        data: { tenantId, userId, username: user.username, source: 'cloud', mfa: 'enabled', origin: 'admin' },
        metadata: at(),
      },
      actor: ADMIN,
    },
    {
      command: { type: 'CompleteMfaRegistration', data: { tenantId, userId, tenantPolicy }, metadata: at() },
      actor: self,
    },
  ];
  for (let k = 0; k < user.appPasswords; k++) {
    const secret = generateAppPassword();
    passwords.push(secret.display());
    steps.push({
      command: {
        type: 'CreateAppPassword',
        data: {
          tenantId,
          userId,
          appPasswordId: randomUUID(),
          name: `bench device ${k + 1}`,
          verifier: hasher.verifierFor(secret.reveal()),
          tenantPolicy,
        },
        metadata: at(),
      },
      actor: self,
    });
  }
  const state: UserState = rows.run({ id: userStreamId(userId), type: 'user', tenantId }, userDecider, steps);
  if (state.status !== 'active') throw new Error('seed: the user was not provisioned');
  return { userId, username: user.username, clientIp: user.clientIp, passwords };
}

export const newRows = (): Rows => new Rows();
export type { Rows };

/** Writes one batch: streams, events (no outbox rows: see above), then the projection rows. */
export async function writeRows(db: PoolClient, rows: Rows): Promise<void> {
  await db.query(
    `INSERT INTO streams (id, type, tenant_id, version)
     SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::int[])`,
    [
      rows.streams.map((s) => s.id),
      rows.streams.map((s) => s.type),
      rows.streams.map((s) => s.tenantId),
      rows.streams.map((s) => s.version),
    ],
  );
  const e = rows.events;
  await db.query(
    `WITH input AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::uuid[], $7::jsonb[],
                            $8::jsonb[], $9::timestamptz[])
         WITH ORDINALITY AS e(id, stream_id, version, type, schema_version, tenant_id, actor, data, occurred_at, ord)
     ), stored AS (
       INSERT INTO events (id, stream_id, version, type, schema_version, tenant_id, actor, data, occurred_at)
       SELECT id, stream_id, version, type, schema_version, tenant_id, actor, data, occurred_at
       FROM input ORDER BY ord
       RETURNING seq
     )
     SELECT count(*) FROM stored`,
    [
      e.map(() => randomUUID()),
      e.map((r) => r.streamId),
      e.map((r) => r.version),
      e.map((r) => r.type),
      e.map((r) => EVENT_SCHEMA_VERSIONS[r.type]),
      e.map((r) => r.tenantId),
      e.map((r) => JSON.stringify(r.actor)),
      e.map((r) => JSON.stringify(r.data)),
      e.map((r) => r.occurredAt),
    ],
  );
  if (rows.tenant) {
    const t = rows.tenant;
    await db.query(
      `INSERT INTO tenants (tenant_id, name, policy, stream_version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5)`,
      [t.tenantId, t.name, JSON.stringify(t.policy), t.version, t.at],
    );
  }
  const a = [...rows.accounts.values()];
  await db.query(
    `INSERT INTO accounts (user_id, tenant_id, username, source, status, mfa, mfa_registered,
       requires_modern_auth, roles, stream_version, created_at, updated_at)
     SELECT user_id, tenant_id, username, source, status, mfa, mfa_registered, requires_modern_auth,
            string_to_array(roles, ','), stream_version, created_at, updated_at
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::bool[],
                 $9::text[], $10::int[], $11::timestamptz[], $12::timestamptz[])
       AS a(user_id, tenant_id, username, source, status, mfa, mfa_registered, requires_modern_auth, roles,
            stream_version, created_at, updated_at)`,
    [
      a.map((r) => r.userId),
      a.map((r) => r.tenantId),
      a.map((r) => r.username),
      a.map((r) => r.source),
      a.map((r) => r.status),
      a.map((r) => r.mfa),
      a.map((r) => r.mfaRegistered),
      a.map((r) => r.requiresModernAuth),
      a.map((r) => r.roles.join(',')),
      a.map((r) => r.streamVersion),
      a.map((r) => r.createdAt),
      a.map((r) => r.updatedAt),
    ],
  );
  const c = rows.credentials;
  if (c.length === 0) return;
  await db.query(
    `INSERT INTO credentials (app_password_id, user_id, tenant_id, name, protocols, verifier_key_id,
       verifier_hash, created_at, expires_at)
     SELECT app_password_id, user_id, tenant_id, name,
            CASE WHEN protocols IS NULL THEN NULL ELSE string_to_array(protocols, ',') END,
            verifier_key_id, decode(verifier_hash, 'base64'), created_at, expires_at
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::timestamptz[], $9::timestamptz[])
       AS c(app_password_id, user_id, tenant_id, name, protocols, verifier_key_id, verifier_hash, created_at,
            expires_at)`,
    [
      c.map((r) => r.appPasswordId),
      c.map((r) => r.userId),
      c.map((r) => r.tenantId),
      c.map((r) => r.name),
      c.map((r) => (r.protocols === null ? null : r.protocols.join(','))),
      c.map((r) => r.verifierKeyId),
      c.map((r) => r.verifierHash),
      c.map((r) => r.createdAt),
      c.map((r) => r.expiresAt),
    ],
  );
}

/** A stable, distinct IPv4 address per user index (what the gateway reports as the client's). */
export const clientIpOf = (index: number): string =>
  `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
