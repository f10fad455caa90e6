import type { LockoutState, TenantPolicy } from '../../domain';
import type { Invalidation } from './invalidations';

/** What verification reads about one (tenant, username, presented secret): from memory or from PostgreSQL. */
export interface VerificationView {
  policy: TenantPolicy | null;
  account: {
    userId: string;
    status: 'active' | 'disabled';
    mfa: 'disabled' | 'enabled' | 'enforced';
    requiresModernAuth: boolean;
    signInsSuspended: boolean;
  } | null;
  /** The account's credential whose keyed hash matches the presented secret. */
  credential: {
    appPasswordId: string;
    createdAt: string;
    expiresAt: string | null;
    protocols: readonly string[] | null;
    revoked: boolean;
  } | null;
  lockout: LockoutState | null;
  /** Answered from memory, without reading PostgreSQL. */
  fromMemory?: true;
}

export interface ReplicaCredential {
  appPasswordId: string;
  /** The keyed hash, base64. */
  hash: string;
  createdAt: string;
  expiresAt: string | null;
  protocols: readonly string[] | null;
  revoked: boolean;
}

export interface ReplicaAccount {
  userId: string;
  username: string;
  status: 'active' | 'disabled';
  mfa: 'disabled' | 'enabled' | 'enforced';
  requiresModernAuth: boolean;
  signInsSuspended: boolean;
  credentials: ReplicaCredential[];
}

/** A read of one username as PostgreSQL answered it, at some instant after `since`. */
export interface NameRead {
  policy: TenantPolicy | null;
  account: ReplicaAccount | null;
  lockout: LockoutState | null;
}

/**
 * One tenant's accounts, app passwords and lockout states, kept in step by invalidations of what
 * can change: memory answers when a credential matches; a miss is read from PostgreSQL (see
 * `view`), so additions need no invalidation. Pure: the loading and re-reading are
 * VerificationReplica's.
 *
 * Staleness is tracked per name: an invalidation marks a name stale, and a stale name is answered
 * only after PostgreSQL has been read again. A read that started before an invalidation touching it
 * arrived may have seen the state before the change: its result is used for its own request (which
 * ran concurrently with the change) but never stored. `generation` counts invalidations; `recent`
 * remembers, while any read is in flight, the generation at which each key was last touched.
 */
export class TenantReplica {
  private readonly accounts = new Map<string, ReplicaAccount>();
  private readonly usernameOf = new Map<string, string>();
  private readonly lockouts = new Map<string, LockoutState>();
  private readonly stale = new Set<string>();
  private readonly recent = new Map<string, number>();
  private policy: TenantPolicy | null = null;
  private policyStale = false;
  private generation = 0;
  /** Reads in flight, by the generation they began at. */
  private readonly readsInFlight = new Map<number, number>();
  private loaded = false;

  get ready(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.accounts.size;
  }

  /** What memory holds per name: accounts, and the lockout states and stale marks of their names. */
  get footprint(): { accounts: number; lockouts: number; stale: number } {
    return { accounts: this.accounts.size, lockouts: this.lockouts.size, stale: this.stale.size };
  }

  /** How many touches are remembered for reads in flight (bounded; for tests and figures). */
  get pendingTouches(): number {
    return this.recent.size;
  }

  /** A read (the tenant's load, or one name's re-read) begins: returns what `finish…` needs. */
  beginRead(): number {
    this.readsInFlight.set(this.generation, (this.readsInFlight.get(this.generation) ?? 0) + 1);
    return this.generation;
  }

  /** Part of the load (before `finishLoad`). */
  addLoaded(
    policy: TenantPolicy | null,
    accounts: ReplicaAccount[],
    lockouts: [string, LockoutState][],
  ): void {
    this.policy = policy;
    for (const account of accounts) this.put(account);
    // Only live accounts' states are given (see forgetName for why no others are kept).
    for (const [username, state] of lockouts) this.lockouts.set(username, state);
  }

  /** The load has read everything: whatever was invalidated while it read is re-read on first use. */
  finishLoad(since: number): void {
    for (const [key, generation] of this.recent) {
      if (generation <= since) continue;
      if (key === 'p') this.policyStale = true;
      else if (key.startsWith('n:')) this.forgetName(key.slice(2));
      else {
        const username = this.usernameOf.get(key.slice(2));
        if (username !== undefined) this.stale.add(username);
      }
    }
    this.loaded = true;
    this.endRead(since);
  }

  /** A load that will not finish (its replica was reset). */
  abandonRead(since: number): void {
    this.endRead(since);
  }

  invalidate(invalidation: Extract<Invalidation, { tenantId: string }>): void {
    this.generation += 1;
    const touch = (key: string) => {
      if (this.readsInFlight.size > 0) this.recent.set(key, this.generation);
    };
    if (invalidation.policy) {
      this.policyStale = true;
      touch('p');
    }
    for (const userId of invalidation.userIds ?? []) {
      const username = this.usernameOf.get(userId);
      if (username !== undefined) this.stale.add(username);
      touch(`u:${userId}`);
    }
    for (const username of invalidation.usernames ?? []) {
      this.forgetName(username);
      touch(`n:${username}`);
    }
  }

  /**
   * A name changed. Memory answers only for a name it holds an account under; any other name is read
   * from PostgreSQL whatever memory holds, so nothing about it is kept: a password spray of made-up
   * names, each failure announced, would otherwise grow the lockout states and stale marks for ever.
   */
  private forgetName(username: string): void {
    if (this.accounts.has(username)) this.stale.add(username);
    else this.lockouts.delete(username);
  }

  /**
   * From memory, or undefined when PostgreSQL must answer: the name (or the policy) is stale, or no
   * credential of the name matches. Memory never answers "no such password": an unknown user and a
   * wrong password both cost one read, alike, and an app password or user just added is found there
   * without waiting for any announcement.
   */
  view(username: string, hash: string): VerificationView | undefined {
    if (!this.loaded || this.policyStale || this.stale.has(username)) return undefined;
    const view = viewOf(
      this.policy,
      this.accounts.get(username) ?? null,
      this.lockouts.get(username) ?? null,
      hash,
    );
    if (!view.credential) return undefined;
    view.fromMemory = true;
    return view;
  }

  /** A re-read of `username` that began at generation `since` has returned. */
  finishRead(since: number, username: string, read: NameRead): void {
    const touched = (key: string) => (this.recent.get(key) ?? 0) > since;
    if (!touched('p')) {
      this.policy = read.policy;
      this.policyStale = false;
    }
    const previous = this.accounts.get(username);
    if (
      !touched(`n:${username}`) &&
      !(read.account && touched(`u:${read.account.userId}`)) &&
      !(previous && touched(`u:${previous.userId}`))
    ) {
      if (previous && this.usernameOf.get(previous.userId) === username)
        this.usernameOf.delete(previous.userId);
      this.accounts.delete(username);
      if (read.account) this.put(read.account);
      if (read.account && read.lockout) this.lockouts.set(username, read.lockout);
      else this.lockouts.delete(username);
      this.stale.delete(username);
    }
    this.endRead(since);
  }

  /**
   * Holds `account` under its name, and under no other: a read that finds a user under a new name
   * (a rename that committed before its invalidation arrived) drops the entry under the old one.
   * Invalidations find a user's name by its id, so an old entry left behind would never be marked
   * stale again, and would answer for the user's revoked or disabled passwords for good.
   */
  private put(account: ReplicaAccount): void {
    const previousName = this.usernameOf.get(account.userId);
    // (The old name may have been read again meanwhile, as someone else's.)
    if (
      previousName !== undefined &&
      previousName !== account.username &&
      this.accounts.get(previousName)?.userId === account.userId
    ) {
      this.accounts.delete(previousName);
      this.lockouts.delete(previousName);
      this.stale.delete(previousName);
    }
    this.accounts.set(account.username, account);
    this.usernameOf.set(account.userId, account.username);
  }

  private endRead(since: number): void {
    const left = (this.readsInFlight.get(since) ?? 1) - 1;
    if (left > 0) this.readsInFlight.set(since, left);
    else this.readsInFlight.delete(since);
    if (this.readsInFlight.size === 0) return this.recent.clear();
    // Reads overlap without end under load (a password spray re-reads name after name): forget
    // what no read in flight can be overtaken by any more.
    if (this.recent.size < 1_024) return;
    const oldest = Math.min(...this.readsInFlight.keys());
    for (const [key, generation] of this.recent) if (generation <= oldest) this.recent.delete(key);
  }
}

/** The view of one presented secret, from an account as read (memory or PostgreSQL). */
export function viewOf(
  policy: TenantPolicy | null,
  account: ReplicaAccount | null,
  lockout: LockoutState | null,
  hash: string,
): VerificationView {
  const credential = account?.credentials.find((candidate) => candidate.hash === hash) ?? null;
  return {
    policy,
    account: account && {
      userId: account.userId,
      status: account.status,
      mfa: account.mfa,
      requiresModernAuth: account.requiresModernAuth,
      signInsSuspended: account.signInsSuspended,
    },
    credential: credential && {
      appPasswordId: credential.appPasswordId,
      createdAt: credential.createdAt,
      expiresAt: credential.expiresAt,
      protocols: credential.protocols,
      revoked: credential.revoked,
    },
    lockout,
  };
}
