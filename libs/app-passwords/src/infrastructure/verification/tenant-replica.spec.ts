import { DEFAULT_TENANT_POLICY, initialLockoutState } from '../../domain';
import { invalidationsOf, lockoutInvalidation, narrowsSignIns, parseInvalidation } from './invalidations';
import { TenantReplica, type ReplicaAccount } from './tenant-replica';

const TENANT = '11111111-1111-4111-8111-111111111111';
const ADA = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const BOB = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

const account = (
  userId: string,
  username: string,
  hashes: string[],
  status: 'active' | 'disabled' = 'active',
): ReplicaAccount => ({
  userId,
  username,
  status,
  mfa: 'enforced',
  requiresModernAuth: false,
  signInsSuspended: false,
  credentials: hashes.map((hash, i) => ({
    appPasswordId: `${userId.slice(0, 8)}-${i}`,
    hash,
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: null,
    protocols: ['IMAP'],
    revoked: false,
  })),
});

const loaded = (...accounts: ReplicaAccount[]): TenantReplica => {
  const replica = new TenantReplica();
  const since = replica.beginRead();
  replica.addLoaded(DEFAULT_TENANT_POLICY, accounts, []);
  replica.finishLoad(since);
  return replica;
};

/** ada@example.org became ada.l@example.org, as the replicas are told of it. */
const renameOfAda = () => {
  const [renamed] = invalidationsOf([
    {
      seq: 7n,
      type: 'UserRenamed',
      tenantId: TENANT,
      data: { userId: ADA, username: 'ada.l@example.org', previousUsername: 'ada@example.org' },
    },
  ]);
  return renamed as Extract<typeof renamed, { tenantId: string }>;
};

/** A name read from PostgreSQL again (nothing invalidated meanwhile). */
const readAgain = (replica: TenantReplica, username: string, found: ReplicaAccount | null): void =>
  replica.finishRead(replica.beginRead(), username, {
    policy: DEFAULT_TENANT_POLICY,
    account: found,
    lockout: null,
  });

describe('TenantReplica (in-memory verification state of one tenant)', () => {
  it('answers from memory when a credential matches; a wrong password and an unknown name go to PostgreSQL alike', () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1', 'h2']));
    expect(replica.view('ada@example.org', 'h2')).toMatchObject({
      account: { userId: ADA },
      credential: { appPasswordId: `${ADA.slice(0, 8)}-1` },
    });
    // Never "no such password" from memory: the same read for both, and a password or user added
    // since the load is found there.
    expect(replica.view('ada@example.org', 'nope')).toBeUndefined();
    expect(replica.view('eve@example.org', 'h1')).toBeUndefined();
  });

  it('answers nothing before its load has finished', () => {
    const replica = new TenantReplica();
    replica.beginRead();
    replica.addLoaded(DEFAULT_TENANT_POLICY, [account(ADA, 'ada@example.org', ['h1'])], []);
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
  });

  it("a user's invalidation makes their name stale until it is read again, and the read is stored", () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1']), account(BOB, 'bob@example.org', ['h9']));
    replica.invalidate({ token: 't', tenantId: TENANT, userIds: [ADA] });
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
    expect(replica.view('bob@example.org', 'h9')).toBeDefined();

    const since = replica.beginRead();
    const revoked = account(ADA, 'ada@example.org', ['h1']);
    revoked.credentials[0].revoked = true;
    replica.finishRead(since, 'ada@example.org', {
      policy: DEFAULT_TENANT_POLICY,
      account: revoked,
      lockout: null,
    });
    expect(replica.view('ada@example.org', 'h1')?.credential?.revoked).toBe(true);
  });

  it('a read that an invalidation overtook is not stored: the name stays stale', () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1']));
    replica.invalidate({ token: 't1', tenantId: TENANT, userIds: [ADA] });
    const since = replica.beginRead();
    // The read saw the state before this second change committed.
    replica.invalidate({ token: 't2', tenantId: TENANT, userIds: [ADA] });
    replica.finishRead(since, 'ada@example.org', {
      policy: DEFAULT_TENANT_POLICY,
      account: account(ADA, 'ada@example.org', ['h1']),
      lockout: null,
    });
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
  });

  it('under reads that never stop overlapping, what a read in flight needs is kept and the rest let go', () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1']));
    // A spray: name after name invalidated, each re-read while the next one starts.
    let previous = replica.beginRead();
    for (let i = 0; i < 5_000; i++) {
      const lockout = lockoutInvalidation(TENANT, `guess-${i}@example.org`);
      replica.invalidate(lockout as Extract<typeof lockout, { tenantId: string }>);
      const next = replica.beginRead();
      replica.finishRead(previous, `guess-${i}@example.org`, {
        policy: DEFAULT_TENANT_POLICY,
        account: null,
        lockout: null,
      });
      previous = next;
    }
    // Ada's read begins, then her change commits, then the read returns: it must not be stored.
    const since = replica.beginRead();
    replica.invalidate({ token: 'late', tenantId: TENANT, userIds: [ADA] });
    replica.finishRead(since, 'ada@example.org', {
      policy: DEFAULT_TENANT_POLICY,
      account: account(ADA, 'ada@example.org', ['h1']),
      lockout: null,
    });
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
    expect(replica.pendingTouches).toBeLessThan(1_100);
  });

  it('B8: a spray of made-up names leaves nothing behind in memory, while a real name keeps its lockout', () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1']));
    const locked = { ...initialLockoutState(), familiarNetworks: ['192.0.2.0/24'] };
    for (const name of [
      ...Array.from({ length: 5_000 }, (_, i) => `guess-${i}@example.org`),
      'ada@example.org',
    ]) {
      // A miss is read from PostgreSQL (its failure count included); then the failure is announced.
      const since = replica.beginRead();
      replica.finishRead(since, name, {
        policy: DEFAULT_TENANT_POLICY,
        account: name.startsWith('ada') ? account(ADA, name, ['h1']) : null,
        lockout: locked,
      });
      const lockout = lockoutInvalidation(TENANT, name);
      replica.invalidate(lockout as Extract<typeof lockout, { tenantId: string }>);
    }
    expect(replica.footprint).toEqual({ accounts: 1, lockouts: 1, stale: 1 });
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined(); // stale: read again first
  });

  it('what changed while the tenant was loading is read again on first use', () => {
    const replica = new TenantReplica();
    const since = replica.beginRead();
    // Announced while the pages were being read: the page holding Ada may predate the change.
    replica.invalidate({ token: 't', tenantId: TENANT, userIds: [ADA] });
    replica.invalidate({ token: 'p', tenantId: TENANT, policy: true });
    replica.addLoaded(
      DEFAULT_TENANT_POLICY,
      [account(ADA, 'ada@example.org', ['h1']), account(BOB, 'bob@example.org', ['h9'])],
      [],
    );
    replica.finishLoad(since);
    expect(replica.view('bob@example.org', 'h9')).toBeUndefined(); // the policy is stale: every name
    const read = replica.beginRead();
    replica.finishRead(read, 'bob@example.org', {
      policy: DEFAULT_TENANT_POLICY,
      account: account(BOB, 'bob@example.org', ['h9']),
      lockout: null,
    });
    expect(replica.view('bob@example.org', 'h9')).toBeDefined();
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
  });

  it('a rename: the old name is free and the new one names the account once both are read again', () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1']));
    replica.invalidate(renameOfAda());
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
    expect(replica.view('ada.l@example.org', 'h1')).toBeUndefined();
    readAgain(replica, 'ada@example.org', null);
    readAgain(replica, 'ada.l@example.org', account(ADA, 'ada.l@example.org', ['h1']));
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined(); // nobody's name: PostgreSQL says so
    expect(replica.view('ada.l@example.org', 'h1')?.account?.userId).toBe(ADA);
  });

  it('a rename read under the new name before its invalidation arrives: the old name no longer answers, and later changes reach the account', () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1']));
    // The rename has committed; a sign-in under the new name misses memory and reads PostgreSQL
    // before the replica has heard of the rename.
    readAgain(replica, 'ada.l@example.org', account(ADA, 'ada.l@example.org', ['h1']));
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
    expect(replica.view('ada.l@example.org', 'h1')?.account?.userId).toBe(ADA);
    expect(replica.footprint.accounts).toBe(1);
    // The rename's invalidation arrives, the new name is read again, and the account is disabled.
    replica.invalidate(renameOfAda());
    readAgain(replica, 'ada.l@example.org', account(ADA, 'ada.l@example.org', ['h1']));
    replica.invalidate({ token: 't', tenantId: TENANT, userIds: [ADA] });
    expect(replica.view('ada.l@example.org', 'h1')).toBeUndefined();
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
  });

  it('B8: a lockout change of a name is read again before memory answers for it', () => {
    const replica = loaded(account(ADA, 'ada@example.org', ['h1']));
    const invalidation = lockoutInvalidation(TENANT, 'ada@example.org');
    replica.invalidate(invalidation as Extract<typeof invalidation, { tenantId: string }>);
    expect(replica.view('ada@example.org', 'h1')).toBeUndefined();
    const since = replica.beginRead();
    const locked = { ...initialLockoutState(), familiarNetworks: ['192.0.2.0/24'] };
    replica.finishRead(since, 'ada@example.org', {
      policy: DEFAULT_TENANT_POLICY,
      account: account(ADA, 'ada@example.org', ['h1']),
      lockout: locked,
    });
    expect(replica.view('ada@example.org', 'h1')?.lockout).toEqual(locked);
  });
});

describe('invalidationsOf (what an append announces to the replicas)', () => {
  it('one per tenant, tokens from the first event, only for events verification reads', () => {
    const invalidations = invalidationsOf([
      { seq: 41n, type: 'LegacySignInSucceeded', tenantId: TENANT, data: {} },
      { seq: 42n, type: 'AppPasswordRevoked', tenantId: TENANT, data: { userId: ADA } },
      {
        seq: 43n,
        type: 'UserProvisioned',
        tenantId: TENANT,
        data: { userId: BOB, username: 'bob@example.org' },
      },
      { seq: 44n, type: 'TenantPolicyChanged', tenantId: TENANT, data: { tenantId: TENANT } },
    ]);
    expect(invalidations).toEqual([
      // Bob's provisioning adds, and the miss path finds additions: only Ada and the policy.
      { token: '42.0', tenantId: TENANT, policy: true, userIds: [ADA] },
    ]);
    expect(invalidationsOf([{ seq: 1n, type: 'LegacySignInFailed', tenantId: TENANT, data: {} }])).toEqual(
      [],
    );
  });

  it('a change touching thousands of users is split under PostgreSQL’s NOTIFY payload limit', () => {
    const events = Array.from({ length: 2_000 }, (_, i) => ({
      seq: BigInt(100 + i),
      type: 'UserDisabled',
      tenantId: TENANT,
      data: { userId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` },
    }));
    const invalidations = invalidationsOf(events);
    expect(invalidations.length).toBeGreaterThan(1);
    expect(new Set(invalidations.map((i) => i.token)).size).toBe(invalidations.length);
    for (const invalidation of invalidations)
      expect(Buffer.byteLength(JSON.stringify(invalidation))).toBeLessThan(8_000);
    const userIds = invalidations.flatMap((i) => ('userIds' in i ? (i.userIds ?? []) : []));
    expect(userIds).toHaveLength(2_000);
  });

  it('a command waits for the replicas when its events can stop a sign-in, not when they only widen', () => {
    expect(narrowsSignIns([{ type: 'AppPasswordCreated' }])).toBe(false);
    // An addition is not even announced (PostgreSQL serialises the commits that NOTIFY) ...
    expect(
      invalidationsOf([{ seq: 9n, type: 'AppPasswordCreated', tenantId: TENANT, data: { userId: ADA } }]),
    ).toEqual([]);
    // ... and another widening change is announced, not acknowledged.
    expect(
      invalidationsOf([{ seq: 10n, type: 'UserEnabled', tenantId: TENANT, data: { userId: ADA } }]),
    ).toEqual([{ token: '10.0', tenantId: TENANT, userIds: [ADA], quiet: true }]);
    expect(narrowsSignIns([{ type: 'UserProvisioned' }, { type: 'MfaRegistrationCompleted' }])).toBe(false);
    expect(narrowsSignIns([{ type: 'LegacySignInFailed' }])).toBe(false);
    for (const type of [
      'AppPasswordRevoked',
      'UserDisabled',
      'UserDeleted',
      'UserRenamed',
      'UserSignInsSuspended',
      'UserMfaStateChanged',
      'UserModernAuthRequirementChanged',
      'UserPasswordReset',
      'TenantPolicyChanged',
    ])
      expect(narrowsSignIns([{ type: 'AppPasswordCreated' }, { type }])).toBe(true);
  });

  it('a payload it cannot read drops everything rather than nothing', () => {
    expect(parseInvalidation('{"token":"abc","tenantId":7}')).toEqual({ token: 'abc', all: true });
    expect(parseInvalidation('garbage')).toMatchObject({ all: true });
    expect(parseInvalidation(JSON.stringify({ token: 'x', tenantId: TENANT, userIds: [ADA] }))).toEqual({
      token: 'x',
      tenantId: TENANT,
      userIds: [ADA],
    });
  });
});
