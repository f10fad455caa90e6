import {
  decideUser,
  DomainError,
  type AppPasswordState,
  type ExistingUser,
  type MfaState,
  type UserStatus,
} from '../domain';
import { appPasswordId, at, policy, T0, TENANT_ID, USER_ID, verifier } from '../domain/testing/fixtures';
import { creationRefusals, myAppPasswordPolicy, type AccountForCreation } from './app-password-policy';

const LIMIT = 3;

const appPassword = (n: number, overrides: Partial<AppPasswordState> = {}): AppPasswordState => ({
  appPasswordId: appPasswordId(n),
  name: `Device ${n}`,
  protocols: null,
  createdAt: T0.toISOString(),
  expiresAt: null,
  verifier: verifier(n),
  status: 'active',
  revokedAt: null,
  revokedReason: null,
  ...overrides,
});

/** A user holding `live` live app passwords, plus an expired and a revoked one that R3 does not count. */
function userWith(account: AccountForCreation, live: number): ExistingUser {
  const held = [
    ...Array.from({ length: live }, (_, i) => appPassword(i + 1)),
    appPassword(50, { expiresAt: at(-1).toISOString() }),
    appPassword(51, { status: 'revoked', revokedAt: at(-1).toISOString(), revokedReason: 'user-deleted-it' }),
  ];
  return {
    ...account,
    userId: USER_ID,
    tenantId: TENANT_ID,
    username: 'alice@contoso.example',
    source: 'cloud',
    roles: ['user'],
    lastLifecycleOrigin: 'admin',
    passwordResetAt: null,
    appPasswords: Object.fromEntries(held.map((p) => [p.appPasswordId, p])),
  };
}

/** What the user decider answers to CreateAppPassword: accepted, or the refusal's code and rule. */
function decide(tenantPolicy: ReturnType<typeof policy>, user: ExistingUser) {
  try {
    decideUser(
      {
        type: 'CreateAppPassword',
        data: {
          tenantId: TENANT_ID,
          userId: USER_ID,
          appPasswordId: appPasswordId(99),
          name: 'A new device',
          verifier: verifier(99),
          tenantPolicy,
        },
        metadata: { now: T0 },
      },
      user,
    );
    return 'accepted';
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { code: error.code, rule: error.rule };
  }
}

const ready: AccountForCreation = {
  status: 'active',
  mfa: 'enforced',
  mfaRegistered: true,
  requiresModernAuth: false,
  signInsSuspended: false,
};

describe('what a user may do with app passwords, before trying', () => {
  it('R1, R3, R10, R14, R15, B2: canCreate and the first reason agree with the user decider on every combination', () => {
    let compared = 0;
    for (const status of ['active', 'disabled'] as UserStatus[])
      for (const signInsSuspended of [false, true])
        for (const appPasswordsAllowed of [false, true])
          for (const requiresModernAuth of [false, true])
            for (const mfa of ['disabled', 'enabled', 'enforced'] as MfaState[])
              for (const mfaRegistered of [false, true])
                for (const live of [0, LIMIT - 1, LIMIT]) {
                  const tenantPolicy = policy({ appPasswordsAllowed, maxAppPasswordsPerUser: LIMIT });
                  const account = { status, signInsSuspended, requiresModernAuth, mfa, mfaRegistered };
                  const reasons = creationRefusals(tenantPolicy, account, live);
                  const decided = decide(tenantPolicy, userWith(account, live));
                  const predicted =
                    reasons.length === 0 ? 'accepted' : { code: reasons[0].code, rule: reasons[0].rule };
                  expect({ account, appPasswordsAllowed, live, answer: predicted }).toEqual({
                    account,
                    appPasswordsAllowed,
                    live,
                    answer: decided,
                  });
                  compared++;
                }
    expect(compared).toBe(288);
  });

  it('R10 and R3: every reason is listed, not just the first', () => {
    const reasons = creationRefusals(
      policy({ appPasswordsAllowed: false, maxAppPasswordsPerUser: 2 }),
      { ...ready, mfaRegistered: false },
      2,
    );
    expect(reasons).toEqual([
      {
        rule: 'R10',
        code: 'R10.app-passwords-not-allowed',
        title: 'This tenant does not allow users to create app passwords.',
      },
      {
        rule: 'R1',
        code: 'R1.mfa-not-registered',
        title: 'Complete MFA registration before creating an app password.',
      },
      { rule: 'R3', code: 'R3.limit-reached', title: 'A user may hold at most 2 app passwords.' },
    ]);
  });

  it('R10, R12, B7: the answer carries the policy that applies, and says deleting is for admins while forbidden', () => {
    expect(myAppPasswordPolicy(policy({ maxLifetimeDays: 90, maxAppPasswordsPerUser: 5 }), ready, 1)).toEqual(
      {
        appPasswordsAllowed: true,
        maxAppPasswordsPerUser: 5,
        liveAppPasswords: 1,
        maxLifetimeDays: 90,
        mfa: 'enforced',
        mfaRegistered: true,
        canCreate: true,
        canDelete: true,
        reasons: [],
      },
    );
    expect(myAppPasswordPolicy(policy({ appPasswordsAllowed: false }), ready, 1)).toMatchObject({
      appPasswordsAllowed: false,
      canCreate: false,
      canDelete: false,
      reasons: [{ rule: 'R10' }],
    });
  });
});
