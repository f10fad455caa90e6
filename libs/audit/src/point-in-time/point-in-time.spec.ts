import {
  DEFAULT_TENANT_POLICY,
  tenantStreamId,
  userStreamId,
  type TenantEvent,
  type TenantPolicy,
  type UserEvent,
} from '@latchkey/app-passwords';
import type { HistoricalEvent } from './history';
import { signInCheckAt } from './sign-in-check';
import { stateAt, type SubjectHistory } from './state-at';

const TENANT = '11111111-1111-4111-8111-111111111111';
const ALICE = '22222222-2222-4222-8222-222222222222';
const LAPTOP = '33333333-3333-4333-8333-333333333333';
const PHONE = '44444444-4444-4444-8444-444444444444';
const VERIFIER_HASH = 'c2VjcmV0LWRlcml2ZWQtaGFzaA';
const T0 = Date.parse('2025-03-03T14:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

/** A history built event by event: each one at its minute, recorded a moment later. */
class History implements SubjectHistory {
  readonly userEvents: HistoricalEvent[] = [];
  readonly tenantEvents: HistoricalEvent[] = [];
  readonly attempts: HistoricalEvent[] = [];
  private seq = 0;

  private push(list: HistoricalEvent[], streamId: string, minute: number, type: string, data: unknown) {
    const occurredAt = at(minute);
    list.push({
      seq: String(++this.seq),
      streamId,
      version: list.filter((e) => e.streamId === streamId).length + 1,
      type,
      data,
      occurredAt,
      recordedAt: new Date(occurredAt.getTime() + 5),
    });
    return this;
  }

  tenant(minute: number, event: TenantEvent) {
    return this.push(this.tenantEvents, tenantStreamId(TENANT), minute, event.type, event.data);
  }

  user(minute: number, event: UserEvent) {
    return this.push(this.userEvents, userStreamId(ALICE), minute, event.type, event.data);
  }

  attempt(minute: number, seconds: number, clientIp: string, reason: string | null) {
    this.push(
      this.attempts,
      `sign-ins-${TENANT}-0`,
      0,
      reason ? 'LegacySignInFailed' : 'LegacySignInSucceeded',
      {
        username: 'alice@contoso.test',
        clientIp,
        action: 'sign-in',
        reason,
        protocol: 'IMAP',
      },
    );
    const last = this.attempts[this.attempts.length - 1];
    last.occurredAt = new Date(at(minute).getTime() + seconds * 1000);
    return this;
  }

  lastSeq = () => String(this.seq);
}

const policy = (patch: Partial<TenantPolicy> = {}): TenantPolicy => ({
  ...DEFAULT_TENANT_POLICY,
  appPasswordsAllowed: true,
  ...patch,
});

const changePolicy = (patch: Partial<TenantPolicy>, changed: string[]): TenantEvent => ({
  type: 'TenantPolicyChanged',
  data: { tenantId: TENANT, policy: policy(patch), changed, changedAt: '' },
});

const created = (
  appPasswordId: string,
  name: string,
  extra: Partial<{ protocols: string[]; expiresAt: string; createdAt: string }> = {},
): UserEvent => ({
  type: 'AppPasswordCreated',
  data: {
    userId: ALICE,
    appPasswordId,
    name,
    protocols: (extra.protocols ?? null) as never,
    createdAt: extra.createdAt ?? '',
    expiresAt: extra.expiresAt ?? null,
    verifier: { algorithm: 'hmac-sha256', keyId: 'k1', hash: VERIFIER_HASH } as never,
  },
});

/** Alice at 14:00, MFA enforced and registered, a laptop app password at 14:01. */
const aliceWithLaptop = () =>
  new History()
    .tenant(0, {
      type: 'TenantCreated',
      data: { tenantId: TENANT, name: 'Contoso', createdAt: '', policy: policy() },
    })
    .user(0, {
      type: 'UserProvisioned',
      data: {
        userId: ALICE,
        tenantId: TENANT,
        username: 'alice@contoso.test',
        source: 'cloud',
        roles: ['user'],
        mfa: 'enforced',
        requiresModernAuth: false,
        origin: 'admin',
        provisionedAt: '',
      },
    })
    .user(0, {
      type: 'MfaRegistrationCompleted',
      data: { userId: ALICE, completedAt: '', appPasswordPromptOffered: true },
    })
    .user(1, created(LAPTOP, 'Laptop', { createdAt: at(1).toISOString() }));

const check = (
  history: History,
  minute: number,
  extra: { protocol?: string; clientIp?: string; appPasswordId?: string } = {},
) =>
  signInCheckAt(history, history.attempts, {
    appPasswordId: extra.appPasswordId ?? LAPTOP,
    at: at(minute),
    protocol: extra.protocol ?? 'IMAP',
    clientIp: extra.clientIp,
  });

describe('B4: state at an instant, folded from the history alone', () => {
  it('B4: only events that occurred at or before the instant count, and each fact names the event that set it', () => {
    const history = aliceWithLaptop()
      .user(5, { type: 'UserDisabled', data: { userId: ALICE, origin: 'admin', disabledAt: '' } })
      .user(9, { type: 'UserEnabled', data: { userId: ALICE, origin: 'admin', enabledAt: '' } });
    const seqOf = (type: string) => history.userEvents.find((e) => e.type === type)!.seq;

    const before = stateAt(history, at(4));
    expect(before.user).toMatchObject({
      status: 'active',
      mfa: 'enforced',
      mfaRegistered: true,
      roles: ['user'],
    });
    if (before.user.status === 'absent') throw new Error('alice exists at 14:04');
    expect(before.user.because.status.seq).toBe(seqOf('UserProvisioned'));
    expect(before.user.because.mfaRegistered.seq).toBe(seqOf('MfaRegistrationCompleted'));

    const during = stateAt(history, at(5)); // the instant itself counts: "at 14:05 she was disabled"
    expect(during.user).toMatchObject({ status: 'disabled' });
    if (during.user.status === 'absent') throw new Error('alice exists at 14:05');
    expect(during.user.because.status).toMatchObject({
      seq: seqOf('UserDisabled'),
      type: 'UserDisabled',
      occurredAt: at(5).toISOString(),
    });

    const after = stateAt(history, at(10));
    if (after.user.status === 'absent') throw new Error('alice exists at 14:10');
    expect(after.user.because.status.type).toBe('UserEnabled');
    expect(stateAt(history, new Date(T0 - 1)).user).toEqual({ status: 'absent' });
  });

  it('B4, B7, R16: each app password with its scope, expiry, and status at the instant: active, expired or revoked (when, why)', () => {
    const history = aliceWithLaptop()
      .user(2, created(PHONE, 'Phone', { protocols: ['IMAP', 'SMTP'], expiresAt: at(30).toISOString() }))
      .user(20, {
        type: 'AppPasswordRevoked',
        data: {
          userId: ALICE,
          appPasswordId: LAPTOP,
          reason: 'admin-deleted-all',
          revokedAt: at(20).toISOString(),
        },
      });
    const statusAt = (minute: number) =>
      Object.fromEntries(stateAt(history, at(minute)).appPasswords.map((p) => [p.name, p.status]));
    expect(statusAt(1)).toEqual({ Laptop: 'active' });
    expect(statusAt(19)).toEqual({ Laptop: 'active', Phone: 'active' });
    expect(statusAt(29)).toEqual({ Laptop: 'revoked', Phone: 'active' });
    expect(statusAt(30)).toEqual({ Laptop: 'revoked', Phone: 'expired' });

    const later = stateAt(history, at(40));
    expect(later.appPasswords.find((p) => p.name === 'Phone')).toMatchObject({
      protocols: ['IMAP', 'SMTP'],
      expiresAt: at(30).toISOString(),
      revokedAt: null,
    });
    const laptop = later.appPasswords.find((p) => p.name === 'Laptop')!;
    expect(laptop).toMatchObject({ revokedAt: at(20).toISOString(), revokedReason: 'admin-deleted-all' });
    expect(laptop.because.map((ref) => ref.type)).toEqual(['AppPasswordCreated', 'AppPasswordRevoked']);
  });

  it('B4: the tenant policy at the instant, each setting with the event that set it', () => {
    const history = aliceWithLaptop().tenant(
      7,
      changePolicy({ legacyAuthBlocked: true }, ['legacyAuthBlocked']),
    );
    const early = stateAt(history, at(6));
    const late = stateAt(history, at(7));
    if (early.tenant.status === 'absent' || late.tenant.status === 'absent')
      throw new Error('Contoso exists');
    expect(early.tenant.policy.legacyAuthBlocked).toBe(false);
    expect(late.tenant.policy.legacyAuthBlocked).toBe(true);
    expect(late.tenant.because.legacyAuthBlocked.type).toBe('TenantPolicyChanged');
    expect(late.tenant.because.appPasswordsAllowed.type).toBe('TenantCreated');
    expect(late.tenant.because['lockout.threshold'].type).toBe('TenantCreated');
  });

  it('B4: an event recorded after the instant about a moment before it is applied and flagged; one out of stream order is not applied', () => {
    const history = aliceWithLaptop()
      .user(3, { type: 'UserDisabled', data: { userId: ALICE, origin: 'admin', disabledAt: '' } })
      .user(6, { type: 'UserEnabled', data: { userId: ALICE, origin: 'admin', enabledAt: '' } })
      .user(2, { type: 'UserMfaStateChanged', data: { userId: ALICE, mfa: 'disabled', changedAt: '' } });
    // Recorded a minute late: a verification at 14:03:30 could not have seen it yet.
    history.userEvents[3].recordedAt = at(4);
    const view = stateAt(history, new Date(at(3).getTime() + 30_000));
    expect(view.user).toMatchObject({ status: 'disabled', mfa: 'enforced' });
    expect(view.recordedAfter.map((ref) => ref.type)).toEqual(['UserDisabled']);
    // The MFA change claims 14:02 but was decided after the 14:06 enable: not applied at 14:03:30.
    expect(view.outOfOrder.map((ref) => ref.type)).toEqual(['UserMfaStateChanged']);
    expect(stateAt(history, at(7))).toMatchObject({
      user: { status: 'active', mfa: 'disabled' },
      outOfOrder: [],
    });
  });

  it('B4, §5: no answer ever carries a verifier', () => {
    const history = aliceWithLaptop();
    const text = JSON.stringify([stateAt(history, at(5)), check(history, 5)]);
    expect(text).not.toContain(VERIFIER_HASH);
    expect(text).not.toContain('verifier');
  });
});

describe('B4: could it sign in then? decideSignIn on the state at the instant', () => {
  it('B4, R1: allowed while nothing refuses, citing the facts it checked', () => {
    const answer = check(aliceWithLaptop(), 2);
    expect(answer).toMatchObject({ allowed: true, reason: null, rule: null, protocol: 'IMAP' });
    expect(answer.because.map((ref) => ref.type)).toEqual([
      'AppPasswordCreated',
      'TenantCreated',
      'UserProvisioned',
    ]);
  });

  it('B4: before the app password existed, or the user, it is invalid-credentials as it was for the gateway', () => {
    const history = aliceWithLaptop();
    expect(check(history, 0)).toMatchObject({
      allowed: false,
      reason: 'invalid-credentials',
      notes: ['The app password did not exist yet.'],
    });
    expect(check(history, -1)).toMatchObject({
      reason: 'invalid-credentials',
      notes: ['The tenant did not exist yet.'],
    });
  });

  it('B4, R16: after its revocation it is invalid-credentials, citing the revocation', () => {
    const history = aliceWithLaptop().user(4, {
      type: 'AppPasswordRevoked',
      data: {
        userId: ALICE,
        appPasswordId: LAPTOP,
        reason: 'user-deleted-it',
        revokedAt: at(4).toISOString(),
      },
    });
    expect(check(history, 3).allowed).toBe(true);
    const answer = check(history, 4);
    expect(answer).toMatchObject({ reason: 'invalid-credentials', rule: null });
    expect(answer.because).toEqual([
      expect.objectContaining({ type: 'AppPasswordRevoked', seq: history.lastSeq() }),
    ]);
  });

  it('B4, R13: a tenant block refuses it from the policy change on, citing the change', () => {
    const history = aliceWithLaptop().tenant(
      6,
      changePolicy({ legacyAuthBlocked: true }, ['legacyAuthBlocked']),
    );
    expect(check(history, 5).allowed).toBe(true);
    const answer = check(history, 6);
    expect(answer).toMatchObject({ reason: 'legacy-auth-blocked', rule: 'R13' });
    expect(answer.because.map((ref) => ref.type)).toEqual(['TenantPolicyChanged']);
  });

  it('B4, R14, R15, B2, R1: account facts refuse it in verification’s order, each citing its event', () => {
    const history = aliceWithLaptop()
      .user(3, { type: 'UserMfaStateChanged', data: { userId: ALICE, mfa: 'disabled', changedAt: '' } })
      .user(4, {
        type: 'UserSignInsSuspended',
        data: { userId: ALICE, origin: 'hr', reason: 'left', suspendedAt: '' },
      })
      .user(5, { type: 'UserDisabled', data: { userId: ALICE, origin: 'admin', disabledAt: '' } })
      .user(6, {
        type: 'UserModernAuthRequirementChanged',
        data: { userId: ALICE, requiresModernAuth: true, changedAt: '' },
      });
    const answers = [3, 4, 5, 6].map((minute) => check(history, minute));
    expect(answers.map((a) => [a.reason, a.rule, a.because.map((ref) => ref.type)])).toEqual([
      ['mfa-not-enabled', 'R1', ['UserMfaStateChanged']],
      ['account-suspended', 'B2', ['UserSignInsSuspended']],
      ['account-disabled', 'R15', ['UserDisabled']],
      ['modern-auth-required', 'R14', ['UserModernAuthRequirementChanged']],
    ]);
  });

  it('B4, R15: a deleted account is invalid-credentials, as verification (which no longer finds it) answered', () => {
    const history = aliceWithLaptop()
      .user(3, {
        type: 'AppPasswordRevoked',
        data: { userId: ALICE, appPasswordId: LAPTOP, reason: 'account-deleted', revokedAt: '' },
      })
      .user(3, { type: 'UserDeleted', data: { userId: ALICE, origin: 'admin', deletedAt: '' } });
    const answer = check(history, 3);
    expect(answer).toMatchObject({
      reason: 'invalid-credentials',
      notes: ['The account was deleted (R15).'],
    });
    expect(answer.because.map((ref) => ref.type)).toEqual(['UserDeleted', 'AppPasswordRevoked']);
  });

  it('B4, B7, B11, R4: expiry, protocol scope and administrative protocols', () => {
    const history = aliceWithLaptop().user(
      2,
      created(PHONE, 'Phone', { protocols: ['SMTP'], expiresAt: at(10).toISOString() }),
    );
    expect(check(history, 3, { appPasswordId: PHONE, protocol: 'smtp' })).toMatchObject({
      allowed: true,
      protocol: 'SMTP',
    });
    expect(check(history, 3, { appPasswordId: PHONE, protocol: 'IMAP' })).toMatchObject({
      reason: 'protocol-not-allowed',
      rule: 'B11',
    });
    expect(check(history, 10, { appPasswordId: PHONE, protocol: 'SMTP' })).toMatchObject({
      reason: 'app-password-expired',
      rule: 'B7',
    });
    expect(check(history, 3, { protocol: 'POWERSHELL' })).toMatchObject({
      reason: 'administrative-action',
      rule: 'R4',
    });
  });

  it('B4, B7: a maximum lifetime set later cuts an app password short from that change on, citing the change', () => {
    const DAY = 24 * 60;
    const history = aliceWithLaptop()
      .user(2, created(PHONE, 'Phone', { createdAt: at(2).toISOString() }))
      .tenant(3 * DAY, changePolicy({ maxLifetimeDays: 1 }, ['maxLifetimeDays']))
      .tenant(4 * DAY, changePolicy({ maxLifetimeDays: 30 }, ['maxLifetimeDays']));
    const phoneAt = (minute: number) =>
      stateAt(history, at(minute)).appPasswords.find((p) => p.name === 'Phone');

    expect(check(history, 3 * DAY - 1, { appPasswordId: PHONE })).toMatchObject({ allowed: true });
    expect(phoneAt(3 * DAY - 1)).toMatchObject({ status: 'active', expiresAt: null });

    const answer = check(history, 3 * DAY, { appPasswordId: PHONE });
    expect(answer).toMatchObject({ reason: 'app-password-expired', rule: 'B7' });
    expect(answer.because.map((ref) => ref.type)).toEqual(['AppPasswordCreated', 'TenantPolicyChanged']);
    expect(answer.notes).toEqual([
      `It expired at ${at(2 + DAY).toISOString()}: the tenant's maximum lifetime of 1 days, counted from its creation (B7).`,
    ]);
    expect(phoneAt(3 * DAY)).toMatchObject({ status: 'expired', expiresAt: at(2 + DAY).toISOString() });

    // Raised to 30 days the next day: it signed in again, as verification would have let it.
    expect(check(history, 4 * DAY, { appPasswordId: PHONE })).toMatchObject({ allowed: true });
    expect(phoneAt(4 * DAY)).toMatchObject({ status: 'active', expiresAt: at(2 + 30 * DAY).toISOString() });
  });
});

describe('B4, B8: smart lockout at the instant, rebuilt from recorded attempts', () => {
  const lockoutPolicy = { threshold: 3, baseLockSeconds: 60, maxLockSeconds: 600, resetAfterSeconds: 3600 };
  const withFailures = (clientIp: string) => {
    const history = aliceWithLaptop().tenant(
      0,
      changePolicy({ lockout: lockoutPolicy }, ['lockout.threshold']),
    );
    for (let i = 0; i < 3; i++) history.attempt(2, i, clientIp, 'invalid-credentials');
    return history;
  };

  it('B4, B8: three wrong passwords from one network lock that network for the base period, and no other', () => {
    const history = withFailures('198.51.100.7');
    const locked = check(history, 2.5, { clientIp: '198.51.100.7' });
    expect(locked).toMatchObject({ allowed: false, reason: 'account-locked', rule: 'B8' });
    expect(locked.lockout).toMatchObject({ considered: true, attemptsReplayed: 3, contradictions: [] });
    expect(locked.because).toEqual([
      expect.objectContaining({ type: 'LegacySignInFailed', seq: history.attempts[2].seq }),
    ]);
    expect(check(history, 2.5, { clientIp: '203.0.113.9' }).allowed).toBe(true);
    expect(check(history, 3.1, { clientIp: '198.51.100.7' }).allowed).toBe(true); // 60 s later
  });

  it('B4, B8: the tenant’s lockout settings at each attempt apply (the default threshold of 10 would not lock)', () => {
    const history = aliceWithLaptop();
    for (let i = 0; i < 3; i++) history.attempt(2, i, '198.51.100.7', 'invalid-credentials');
    expect(check(history, 2.5, { clientIp: '198.51.100.7' }).allowed).toBe(true);
  });

  it('B4, B8: without a client IP lockout is not considered, and the answer says so', () => {
    const answer = check(withFailures('198.51.100.7'), 2.5);
    expect(answer.allowed).toBe(true);
    expect(answer.lockout).toMatchObject({ considered: false, status: { locked: false } });
    expect(answer.lockout.assumptions[0]).toMatch(/not considered/);
  });

  it('B4, B8: a recorded outcome the replay does not reproduce is reported as a contradiction', () => {
    // Recorded as locked although nothing before it could lock: the reconstruction is not exact.
    const history = aliceWithLaptop().attempt(2, 0, '198.51.100.7', 'account-locked');
    const answer = check(history, 3, { clientIp: '198.51.100.7' });
    expect(answer.lockout.contradictions).toEqual([
      {
        attempt: expect.objectContaining({ seq: history.attempts[0].seq }),
        recorded: 'account-locked',
        replayed: 'not locked',
      },
    ]);
  });

  it('B4, B8: a success forgives its network’s failures, as verification does', () => {
    const history = aliceWithLaptop().tenant(
      0,
      changePolicy({ lockout: lockoutPolicy }, ['lockout.threshold']),
    );
    history
      .attempt(2, 0, '198.51.100.7', 'invalid-credentials')
      .attempt(2, 1, '198.51.100.7', 'invalid-credentials');
    history.attempt(2, 2, '198.51.100.7', null).attempt(2, 3, '198.51.100.7', 'invalid-credentials');
    expect(check(history, 2.5, { clientIp: '198.51.100.7' }).allowed).toBe(true);
  });
});
