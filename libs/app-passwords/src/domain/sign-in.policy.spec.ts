import { decideSignIn, SIGN_IN_REFUSALS, SignInAttempt, SignInRefusal } from './sign-in.policy';
import { at } from './testing/fixtures';

const allowed: SignInAttempt = {
  now: at(10),
  protocol: 'IMAP',
  action: 'sign-in',
  credential: { status: 'active', createdAt: at(0).toISOString(), expiresAt: null, protocols: null },
  user: { status: 'active', mfa: 'enforced', requiresModernAuth: false, signInsSuspended: false },
  tenantPolicy: { legacyAuthBlocked: false, maxLifetimeDays: null },
  lockout: { locked: false },
};

const locked = { locked: true, until: at(11), scope: 'network' } as const;

const reasonOf = (attempt: Partial<SignInAttempt>): SignInRefusal | 'allowed' => {
  const decision = decideSignIn({ ...allowed, ...attempt });
  return decision.allowed ? 'allowed' : decision.reason;
};

describe('sign-in policy', () => {
  it('R1: a valid app password of an MFA account signs in with no second factor', () => {
    expect(decideSignIn(allowed)).toEqual({ allowed: true, protocol: 'IMAP' });
    expect(reasonOf({ user: { ...allowed.user!, mfa: 'enabled' }, protocol: 'smtp' })).toBe('allowed');
  });

  it('R1: an account whose MFA was turned off cannot sign in with an app password', () => {
    expect(reasonOf({ user: { ...allowed.user!, mfa: 'disabled' } })).toBe('mfa-not-enabled');
  });

  it('R4: an administrative action is refused whatever the account, even with a valid app password', () => {
    expect(reasonOf({ action: 'administrative' })).toBe('administrative-action');
    expect(reasonOf({ protocol: 'PowerShell' })).toBe('administrative-action');
    expect(reasonOf({ action: 'administrative', credential: undefined, lockout: locked })).toBe(
      'administrative-action',
    );
  });

  it('R13: blocking legacy authentication stops every existing app password', () => {
    expect(reasonOf({ tenantPolicy: { legacyAuthBlocked: true, maxLifetimeDays: null } })).toBe(
      'legacy-auth-blocked',
    );
  });

  it('R13: a wrong password in a blocked tenant says only invalid-credentials (the username is not confirmed)', () => {
    expect(
      reasonOf({ tenantPolicy: { legacyAuthBlocked: true, maxLifetimeDays: null }, credential: undefined }),
    ).toBe('invalid-credentials');
  });

  it('R14: an account required to use modern authentication cannot use app passwords', () => {
    expect(reasonOf({ user: { ...allowed.user!, requiresModernAuth: true } })).toBe('modern-auth-required');
  });

  it('R15: a disabled or deleted account cannot sign in; enabled again, it can', () => {
    expect(reasonOf({ user: { ...allowed.user!, status: 'disabled' } })).toBe('account-disabled');
    expect(reasonOf({ user: { ...allowed.user!, status: 'deleted' } })).toBe('account-disabled');
    expect(reasonOf({ user: { ...allowed.user!, status: 'active' } })).toBe('allowed');
  });

  it('B2: a suspended account cannot sign in with any app password; resumed, it can', () => {
    expect(reasonOf({ user: { ...allowed.user!, signInsSuspended: true } })).toBe('account-suspended');
    expect(decideSignIn({ ...allowed, user: { ...allowed.user!, signInsSuspended: true } })).toEqual({
      allowed: false,
      reason: 'account-suspended',
      rule: 'B2',
      countsAsLockoutFailure: false,
    });
    expect(reasonOf({ user: { ...allowed.user!, signInsSuspended: false } })).toBe('allowed');
  });

  it('B2: a wrong password for a suspended account says only invalid-credentials', () => {
    expect(reasonOf({ user: { ...allowed.user!, signInsSuspended: true }, credential: undefined })).toBe(
      'invalid-credentials',
    );
  });

  it('unknown user, wrong password and revoked app password are one answer: invalid-credentials', () => {
    const unknownUser = decideSignIn({
      ...allowed,
      user: undefined,
      tenantPolicy: undefined,
      credential: undefined,
    });
    const wrongPassword = decideSignIn({ ...allowed, credential: undefined });
    const revokedPassword = decideSignIn({
      ...allowed,
      credential: { ...allowed.credential!, status: 'revoked' },
    });
    expect(unknownUser).toEqual(wrongPassword);
    expect(revokedPassword).toEqual(wrongPassword);
    expect(wrongPassword).toEqual({
      allowed: false,
      reason: 'invalid-credentials',
      rule: undefined,
      countsAsLockoutFailure: true,
    });
  });

  it('B8: a locked account answers the same whether the password is right or wrong, and for unknown users', () => {
    const right = decideSignIn({ ...allowed, lockout: locked });
    const wrong = decideSignIn({ ...allowed, lockout: locked, credential: undefined });
    const unknown = decideSignIn({ ...allowed, lockout: locked, credential: undefined, user: undefined });
    expect(right).toEqual({
      allowed: false,
      reason: 'account-locked',
      rule: 'B8',
      countsAsLockoutFailure: false,
    });
    expect(wrong).toEqual(right);
    expect(unknown).toEqual(right);
  });

  it('B7: an expired app password no longer signs in, from its expiry instant on', () => {
    const credential = { ...allowed.credential!, expiresAt: at(10).toISOString() };
    expect(reasonOf({ credential, now: at(9) })).toBe('allowed');
    expect(reasonOf({ credential, now: at(10) })).toBe('app-password-expired');
  });

  it('B7: a lowered maximum lifetime stops existing app passwords older than it; raised again, they sign in until their own expiry', () => {
    const day = 24 * 60;
    const credential = {
      ...allowed.credential!,
      createdAt: at(0).toISOString(),
      expiresAt: at(90 * day).toISOString(),
    };
    const lifetime = (maxLifetimeDays: number | null) => ({ legacyAuthBlocked: false, maxLifetimeDays });
    const now = at(31 * day);
    expect(reasonOf({ credential, now, tenantPolicy: lifetime(90) })).toBe('allowed');
    expect(reasonOf({ credential, now, tenantPolicy: lifetime(30) })).toBe('app-password-expired');
    expect(reasonOf({ credential, now: at(30 * day - 1), tenantPolicy: lifetime(30) })).toBe('allowed');
    expect(reasonOf({ credential, now, tenantPolicy: lifetime(365) })).toBe('allowed');
    expect(reasonOf({ credential, now, tenantPolicy: lifetime(null) })).toBe('allowed');
    // Raising the maximum never lengthens what the app password was created with.
    expect(reasonOf({ credential, now: at(90 * day), tenantPolicy: lifetime(365) })).toBe(
      'app-password-expired',
    );
    expect(reasonOf({ credential, now: at(90 * day), tenantPolicy: lifetime(null) })).toBe(
      'app-password-expired',
    );
    // One created before any maximum was set is reached by one set later.
    const unbounded = { ...credential, expiresAt: null };
    expect(reasonOf({ credential: unbounded, now: at(400 * day), tenantPolicy: lifetime(null) })).toBe(
      'allowed',
    );
    expect(reasonOf({ credential: unbounded, now: at(400 * day), tenantPolicy: lifetime(365) })).toBe(
      'app-password-expired',
    );
  });

  it('B11: a scoped app password signs in only with its protocols', () => {
    const credential = { ...allowed.credential!, protocols: ['IMAP' as const, 'SMTP' as const] };
    expect(reasonOf({ credential, protocol: 'imap' })).toBe('allowed');
    expect(reasonOf({ credential, protocol: 'EAS' })).toBe('protocol-not-allowed');
    expect(reasonOf({ protocol: 'GOPHER' })).toBe('protocol-not-allowed');
  });

  it('only a wrong password counts toward lockout', () => {
    const refusals = [
      decideSignIn({ ...allowed, tenantPolicy: { legacyAuthBlocked: true, maxLifetimeDays: null } }),
      decideSignIn({ ...allowed, user: { ...allowed.user!, status: 'disabled' } }),
      decideSignIn({ ...allowed, user: { ...allowed.user!, signInsSuspended: true } }),
      decideSignIn({
        ...allowed,
        protocol: 'EAS',
        credential: { ...allowed.credential!, protocols: ['IMAP'] },
      }),
    ];
    for (const refusal of refusals)
      expect(refusal).toMatchObject({ allowed: false, countsAsLockoutFailure: false });
  });

  it('applies refusals in order of precedence', () => {
    const everythingWrong: SignInAttempt = {
      now: at(10),
      protocol: 'EAS',
      action: 'administrative',
      credential: {
        status: 'active',
        createdAt: at(-1).toISOString(),
        expiresAt: at(0).toISOString(),
        protocols: ['IMAP'],
      },
      user: { status: 'disabled', mfa: 'disabled', requiresModernAuth: true, signInsSuspended: true },
      tenantPolicy: { legacyAuthBlocked: true, maxLifetimeDays: null },
      lockout: locked,
    };
    const order: SignInRefusal[] = [];
    let attempt = everythingWrong;
    const fixes: Partial<SignInAttempt>[] = [
      { action: 'sign-in' },
      { lockout: { locked: false } },
      { tenantPolicy: { legacyAuthBlocked: false, maxLifetimeDays: null } },
      { user: { status: 'disabled', mfa: 'disabled', requiresModernAuth: false, signInsSuspended: true } },
      { user: { status: 'active', mfa: 'disabled', requiresModernAuth: false, signInsSuspended: true } },
      { user: { status: 'active', mfa: 'disabled', requiresModernAuth: false, signInsSuspended: false } },
      { user: { status: 'active', mfa: 'enabled', requiresModernAuth: false, signInsSuspended: false } },
      {
        credential: {
          status: 'active',
          createdAt: at(-1).toISOString(),
          expiresAt: null,
          protocols: ['IMAP'],
        },
      },
      { protocol: 'IMAP' },
    ];
    for (const fix of fixes) {
      const decision = decideSignIn(attempt);
      if (!decision.allowed) order.push(decision.reason);
      attempt = { ...attempt, ...fix };
    }
    expect(order).toEqual([
      'administrative-action',
      'account-locked',
      'legacy-auth-blocked',
      'modern-auth-required',
      'account-disabled',
      'account-suspended',
      'mfa-not-enabled',
      'app-password-expired',
      'protocol-not-allowed',
    ]);
    expect(decideSignIn(attempt).allowed).toBe(true);
  });

  it('every refusal names its rule where there is one', () => {
    expect(SIGN_IN_REFUSALS).toMatchObject({
      'administrative-action': 'R4',
      'legacy-auth-blocked': 'R13',
      'account-suspended': 'B2',
    });
  });
});
