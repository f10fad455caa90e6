import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { describeFailure } from '@latchkey/runtime';
import { DataSource } from 'typeorm';
import type { LockoutState, TenantPolicy } from '../../domain';
import type { Invalidation } from './invalidations';
import { TenantReplica, viewOf, type ReplicaAccount, type VerificationView } from './tenant-replica';

/**
 * One read answers everything verification needs when memory cannot: the account, the tenant's
 * policy, the credential whose keyed hash matches, and the lockout state. The hash is computed
 * whatever the username, so an unknown user and a wrong password cost the same and answer the same.
 * The read sees every command acknowledged before it started. (The bench's bare baseline runs this
 * very text: bench/baseline-server.ts reads it from the build.)
 */
export const LOOKUP = `
  SELECT a.user_id, a.status, a.mfa, a.requires_modern_auth, a.sign_ins_suspended, t.policy,
         c.app_password_id, c.created_at, c.expires_at, c.protocols, c.revoked_at, l.state AS lockout
  FROM (SELECT $1::uuid AS tenant_id, $2::text AS username) q
  LEFT JOIN tenants t ON t.tenant_id = q.tenant_id
  LEFT JOIN accounts a ON a.tenant_id = q.tenant_id AND a.username = q.username AND a.status <> 'deleted'
  LEFT JOIN credentials c ON c.verifier_hash = $3 AND c.user_id = a.user_id
  LEFT JOIN sign_in_lockouts l ON l.tenant_id = q.tenant_id AND l.username = q.username`;

interface LookupRow {
  user_id: string | null;
  status: 'active' | 'disabled' | null;
  mfa: 'disabled' | 'enabled' | 'enforced' | null;
  requires_modern_auth: boolean | null;
  sign_ins_suspended: boolean | null;
  policy: TenantPolicy | null;
  app_password_id: string | null;
  created_at: Date | null;
  expires_at: Date | null;
  protocols: string[] | null;
  revoked_at: Date | null;
  lockout: LockoutState | null;
}

const CREDENTIALS_OF = `(SELECT coalesce(json_agg(json_build_object(
      'appPasswordId', c.app_password_id, 'hash', encode(c.verifier_hash, 'base64'),
      'createdAt', c.created_at, 'expiresAt', c.expires_at, 'protocols', c.protocols, 'revoked', c.revoked_at IS NOT NULL)), '[]'::json)
    FROM credentials c WHERE c.user_id = a.user_id)`;

const ACCOUNT_COLUMNS = `a.user_id, a.username, a.status, a.mfa, a.requires_modern_auth, a.sign_ins_suspended`;

/** One name, whole: what a stale name is re-read with. */
const READ_NAME = `
  SELECT t.policy, ${ACCOUNT_COLUMNS},
         CASE WHEN a.user_id IS NULL THEN NULL ELSE ${CREDENTIALS_OF} END AS credentials, l.state AS lockout
  FROM (SELECT $1::uuid AS tenant_id, $2::text AS username) q
  LEFT JOIN tenants t ON t.tenant_id = q.tenant_id
  LEFT JOIN accounts a ON a.tenant_id = q.tenant_id AND a.username = q.username AND a.status <> 'deleted'
  LEFT JOIN sign_in_lockouts l ON l.tenant_id = q.tenant_id AND l.username = q.username`;

/** A tenant's live accounts in name order (the accounts_live_username index), a page at a time. */
const LOAD_ACCOUNTS = `
  SELECT ${ACCOUNT_COLUMNS}, ${CREDENTIALS_OF} AS credentials
  FROM accounts a
  WHERE a.tenant_id = $1 AND a.status <> 'deleted' AND a.username > $2
  ORDER BY a.username LIMIT $3`;

/** The lockout states of live accounts (memory answers for no other name), a page at a time. */
const LOAD_LOCKOUTS = `
  SELECT l.username, l.state FROM sign_in_lockouts l
  JOIN accounts a ON a.tenant_id = l.tenant_id AND a.username = l.username AND a.status <> 'deleted'
  WHERE l.tenant_id = $1 AND l.username > $2 ORDER BY l.username LIMIT $3`;

interface AccountRow {
  user_id: string | null;
  username: string | null;
  status: 'active' | 'disabled' | null;
  mfa: 'disabled' | 'enabled' | 'enforced' | null;
  requires_modern_auth: boolean | null;
  sign_ins_suspended: boolean | null;
  credentials:
    | {
        appPasswordId: string;
        hash: string;
        createdAt: string;
        expiresAt: string | null;
        protocols: string[] | null;
        revoked: boolean;
      }[]
    | null;
}

export interface VerificationReplicaOptions {
  /** Accounts held in memory across all tenants; a tenant that would pass it is read from PostgreSQL. */
  maxAccounts: number;
  /** Rows per page while a tenant loads. */
  pageSize: number;
  /**
   * Tenants read at once. Each load holds a pooled connection for the whole of its read (one
   * snapshot); after a restart the first sign-in of every tenant starts one, and the pool must stay
   * free for the verifications that read PostgreSQL meanwhile.
   */
  concurrentLoads: number;
}

const DEFAULT_OPTIONS: VerificationReplicaOptions = {
  maxAccounts: 1_000_000,
  pageSize: 5_000,
  concurrentLoads: 2,
};

/**
 * Verification's reads, from memory where that is as good as PostgreSQL (PRODUCT §7: a verification
 * path with no database round trip, keeping zero successes after an acknowledged revocation across
 * instances). Memory is used only while this process holds a lease (VerificationCoherence): the
 * lease is renewed on the connection that receives the invalidations, and every change that
 * verification reads is acknowledged to its command only after each leaseholder has applied its
 * invalidation (or the leaseholder's lease, which it stops using before the database lets it go,
 * has run out). Otherwise, and for a tenant still loading or a name just invalidated, PostgreSQL
 * answers, exactly as before.
 */
@Injectable()
export class VerificationReplica {
  private readonly logger = new Logger(VerificationReplica.name);
  private readonly options: VerificationReplicaOptions;
  private readonly tenants = new Map<string, TenantReplica | 'too-large'>();
  /** performance.now() from which and until which memory may answer; 0 while no lease is held. */
  private servingFrom = 0;
  private servingUntil = 0;
  /** Bumped by every reset: loads begun before it are thrown away. */
  private epoch = 0;
  private accounts = 0;
  private loadsRunning = 0;
  private readonly waitingLoads: (() => void)[] = [];
  /** Verifications in flight, by the barrier count they began at (see `settled`). */
  private readonly verificationsInFlight = new Map<number, number>();
  private barriers = 0;
  private readonly settledWaiters: { barrier: number; resolve: () => void }[] = [];

  constructor(
    private readonly db: DataSource,
    options: Partial<VerificationReplicaOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  get serving(): boolean {
    const now = performance.now();
    return now < this.servingUntil && now >= this.servingFrom;
  }

  /**
   * The lease is held until `deadline` (performance.now() scale, already shortened by a margin);
   * a new lease's memory answers from `from` on.
   */
  holdUntil(deadline: number, from?: number): void {
    this.servingUntil = deadline;
    if (from !== undefined) this.servingFrom = from;
  }

  /** Whatever memory holds may have missed an invalidation: forget it all and stop answering from it. */
  reset(): void {
    this.servingUntil = 0;
    this.forget();
  }

  invalidate(invalidation: Invalidation): void {
    if ('all' in invalidation) return this.forget();
    const tenant = this.tenants.get(invalidation.tenantId);
    if (tenant === 'too-large') return;
    tenant?.invalidate(invalidation);
  }

  /**
   * A verification begins: what it reads from here on decides its answer. Returns what
   * `endVerification` takes when it has answered (whatever the answer, or an error).
   */
  beginVerification(): number {
    const ticket = this.barriers;
    this.verificationsInFlight.set(ticket, (this.verificationsInFlight.get(ticket) ?? 0) + 1);
    return ticket;
  }

  endVerification(ticket: number): void {
    const left = (this.verificationsInFlight.get(ticket) ?? 1) - 1;
    if (left > 0) this.verificationsInFlight.set(ticket, left);
    else this.verificationsInFlight.delete(ticket);
    if (this.settledWaiters.length === 0) return;
    const oldest =
      this.verificationsInFlight.size === 0 ? Infinity : Math.min(...this.verificationsInFlight.keys());
    while (this.settledWaiters.length > 0 && this.settledWaiters[0].barrier < oldest)
      this.settledWaiters.shift()!.resolve();
  }

  /**
   * Resolves once every verification begun before this call has answered; undefined when none is
   * in flight. An acknowledgement waits for it: a verification that read the state before a
   * revocation and is still recording its attempt (R9) would otherwise answer "allowed" after the
   * revocation's command had returned.
   */
  settled(): Promise<void> | undefined {
    if (this.verificationsInFlight.size === 0) return undefined;
    const barrier = this.barriers++;
    return new Promise((resolve) => this.settledWaiters.push({ barrier, resolve }));
  }

  /** Whether `tenantId` is in memory, loaded (for tests). */
  holds(tenantId: string): boolean {
    return this.loaded(tenantId) !== undefined;
  }

  /** Figures for /health and the benches. */
  stats(): { serving: boolean; tenants: number; accounts: number } {
    return { serving: this.serving, tenants: this.tenants.size, accounts: this.accounts };
  }

  async view(tenantId: string, username: string, hash: Buffer): Promise<VerificationView> {
    if (this.serving) {
      const tenant = this.loaded(tenantId);
      if (tenant) {
        const encoded = hash.toString('base64');
        return tenant.view(username, encoded) ?? (await this.reread(tenant, tenantId, username, encoded));
      }
      if (!this.tenants.has(tenantId)) this.load(tenantId);
    }
    return this.lookup(tenantId, username, hash);
  }

  /** Reads PostgreSQL as a miss in memory does, whatever memory holds (the same read, the same cost). */
  async viewFromDatabase(tenantId: string, username: string, hash: Buffer): Promise<VerificationView> {
    const tenant = this.loaded(tenantId);
    if (tenant) return this.reread(tenant, tenantId, username, hash.toString('base64'));
    return this.lookup(tenantId, username, hash);
  }

  /** The tenant's memory, once its load has finished. */
  private loaded(tenantId: string): TenantReplica | undefined {
    const tenant = this.tenants.get(tenantId);
    return tenant instanceof TenantReplica && tenant.ready ? tenant : undefined;
  }

  private forget(): void {
    this.epoch += 1;
    this.tenants.clear();
    this.accounts = 0;
  }

  private async lookup(tenantId: string, username: string, hash: Buffer): Promise<VerificationView> {
    const [row]: LookupRow[] = await this.db.query(LOOKUP, [tenantId, username, hash]);
    return {
      policy: row.policy,
      account:
        row.user_id && row.status && row.mfa
          ? {
              userId: row.user_id,
              status: row.status,
              mfa: row.mfa,
              requiresModernAuth: row.requires_modern_auth ?? false,
              signInsSuspended: row.sign_ins_suspended ?? false,
            }
          : null,
      credential: row.app_password_id
        ? {
            appPasswordId: row.app_password_id,
            createdAt: row.created_at!.toISOString(),
            expiresAt: row.expires_at?.toISOString() ?? null,
            protocols: row.protocols,
            revoked: row.revoked_at !== null,
          }
        : null,
      lockout: row.lockout,
    };
  }

  private async reread(
    tenant: TenantReplica,
    tenantId: string,
    username: string,
    hash: string,
  ): Promise<VerificationView> {
    const since = tenant.beginRead();
    let read;
    try {
      const [row]: (AccountRow & { policy: TenantPolicy | null; lockout: LockoutState | null })[] =
        await this.db.query(READ_NAME, [tenantId, username]);
      read = { policy: row.policy, account: accountOf(row), lockout: row.lockout };
    } catch (error) {
      tenant.abandonRead(since);
      throw error;
    }
    if (this.tenants.get(tenantId) === tenant) {
      const before = tenant.size;
      tenant.finishRead(since, username, read);
      this.accounts += tenant.size - before;
    } else tenant.abandonRead(since);
    return viewOf(read.policy, read.account, read.lockout, hash);
  }

  /** Reads a tenant into memory in the background; verifications read PostgreSQL meanwhile. */
  private load(tenantId: string): void {
    const tenant = new TenantReplica();
    this.tenants.set(tenantId, tenant);
    const epoch = this.epoch;
    const since = tenant.beginRead();
    const started = performance.now();
    const current = () => this.epoch === epoch && this.tenants.get(tenantId) === tenant;
    void this.inLoadSlot(() => this.readTenant(tenantId, current))
      .then((read) => {
        if (read === 'too-large') {
          if (current()) this.tenants.set(tenantId, 'too-large');
          this.logger.warn(
            `tenant ${tenantId} has more accounts than the verification replica holds (${this.options.maxAccounts}); its verifications read PostgreSQL`,
          );
        }
        if (read === 'too-large' || read === 'abandoned' || !current()) return tenant.abandonRead(since);
        tenant.addLoaded(read.policy, read.accounts, read.lockouts);
        tenant.finishLoad(since);
        this.accounts += tenant.size;
        this.logger.log(
          `tenant ${tenantId}: ${read.accounts.length} accounts and ${read.lockouts.length} lockout states in memory in ${Math.round(performance.now() - started)} ms`,
        );
      })
      .catch((error: unknown) => {
        tenant.abandonRead(since);
        // Tried again by the next verification of the tenant.
        if (current()) this.tenants.delete(tenantId);
        this.logger.warn(`tenant ${tenantId} could not be read into memory: ${describeFailure(error)}`);
      });
  }

  /** Runs `work` once fewer than `concurrentLoads` loads run; a finished load hands its slot on. */
  private async inLoadSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.loadsRunning < this.options.concurrentLoads) this.loadsRunning += 1;
    else await new Promise<void>((resolve) => this.waitingLoads.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waitingLoads.shift();
      if (next) next();
      else this.loadsRunning -= 1;
    }
  }

  /**
   * A tenant's policy, accounts and lockout states, a page at a time but all from one snapshot:
   * pages read at different instants could hold a user renamed between them under both names. What
   * commits after the snapshot was taken is invalidated after the load's `beginRead`, so finishLoad
   * marks it stale.
   */
  private async readTenant(
    tenantId: string,
    current: () => boolean,
  ): Promise<
    | { policy: TenantPolicy | null; accounts: ReplicaAccount[]; lockouts: [string, LockoutState][] }
    | 'too-large'
    | 'abandoned'
  > {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const [row]: { policy: TenantPolicy }[] = await runner.query(
        `SELECT policy FROM tenants WHERE tenant_id = $1`,
        [tenantId],
      );
      const accounts: ReplicaAccount[] = [];
      const interned = new Map<string, readonly string[]>();
      for (let after = ''; ;) {
        if (!current()) return 'abandoned';
        const page: AccountRow[] = await runner.query(LOAD_ACCOUNTS, [
          tenantId,
          after,
          this.options.pageSize,
        ]);
        for (const account of page) accounts.push(accountOf(account, interned)!);
        if (this.accounts + accounts.length > this.options.maxAccounts) return 'too-large';
        if (page.length < this.options.pageSize) break;
        after = page[page.length - 1].username!;
      }
      const lockouts: [string, LockoutState][] = [];
      for (let after = ''; ;) {
        if (!current()) return 'abandoned';
        const page: { username: string; state: LockoutState }[] = await runner.query(LOAD_LOCKOUTS, [
          tenantId,
          after,
          this.options.pageSize,
        ]);
        for (const { username, state } of page) lockouts.push([username, state]);
        if (page.length < this.options.pageSize) break;
        after = page[page.length - 1].username;
      }
      return { policy: row?.policy ?? null, accounts, lockouts };
    } finally {
      await runner.query('ROLLBACK').catch(() => undefined);
      await runner.release();
    }
  }
}

function accountOf(row: AccountRow, interned?: Map<string, readonly string[]>): ReplicaAccount | null {
  if (!row.user_id || !row.username || !row.status || !row.mfa) return null;
  return {
    userId: row.user_id,
    username: row.username,
    status: row.status,
    mfa: row.mfa,
    requiresModernAuth: row.requires_modern_auth ?? false,
    signInsSuspended: row.sign_ins_suspended ?? false,
    credentials: (row.credentials ?? []).map((credential) => ({
      appPasswordId: credential.appPasswordId,
      hash: credential.hash,
      createdAt: new Date(credential.createdAt).toISOString(),
      expiresAt: credential.expiresAt === null ? null : new Date(credential.expiresAt).toISOString(),
      protocols: intern(credential.protocols, interned),
      revoked: credential.revoked,
    })),
  };
}

/** Most app passwords share a few scope lists (null: every protocol): one frozen array each, not 400,000. */
function intern(
  protocols: string[] | null,
  interned?: Map<string, readonly string[]>,
): readonly string[] | null {
  if (protocols === null || !interned) return protocols && Object.freeze(protocols);
  const key = protocols.join(',');
  let shared = interned.get(key);
  if (!shared) interned.set(key, (shared = Object.freeze(protocols)));
  return shared;
}
