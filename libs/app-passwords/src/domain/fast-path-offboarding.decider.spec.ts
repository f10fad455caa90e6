import { ConflictError, RuleViolationError, ValidationError } from './domain-error';
import { foldEvents } from './decider';
import { DeciderSpecification } from './testing/decider.specification';
import {
  appPasswordCreated,
  appPasswordId,
  at,
  mfaRegistered,
  policy,
  readyUser,
  TENANT_ID,
  USER_ID,
  userProvisioned,
  verifier,
} from './testing/fixtures';
import { UserCommand } from './user.commands';
import { userDecider } from './user.decider';
import { UserEvent, UserSignInsSuspended } from './user.events';

const given = DeciderSpecification.for(userDecider);
const ids = { tenantId: TENANT_ID, userId: USER_ID };
const FAST_PATH_ON = policy({ fastPathOffboarding: true });
const FAST_PATH_OFF = policy({ fastPathOffboarding: false });

const syncedUser = (): UserEvent[] => [
  userProvisioned({ source: 'synced', origin: 'directory-sync' }),
  mfaRegistered(),
];

const suspend = (
  tenantPolicy = FAST_PATH_ON,
  data: Partial<{ origin: string; reason: string }> = {},
): UserCommand =>
  ({
    type: 'SuspendSignIns',
    data: { ...ids, origin: 'hr', reason: 'HR offboarding 4711', tenantPolicy, ...data },
    metadata: { now: at(10) },
  }) as UserCommand;

const resume = (origin = 'admin'): UserCommand =>
  ({ type: 'ResumeSignIns', data: { ...ids, origin }, metadata: { now: at(20) } }) as UserCommand;

const suspended = (minutes = 10): UserSignInsSuspended => ({
  type: 'UserSignInsSuspended',
  data: {
    userId: USER_ID,
    origin: 'hr',
    reason: 'HR offboarding 4711',
    suspendedAt: at(minutes).toISOString(),
  },
});

describe('user decider: fast-path offboarding (B2)', () => {
  it("B2: with the tenant's fast path on, an HR trigger suspends a synced user's sign-ins at once, deleting nothing", () => {
    given(...syncedUser(), appPasswordCreated(1), appPasswordCreated(2))
      .when(suspend())
      .then(suspended());
  });

  it('B2: without the opt-in, a synced user is not suspended: the directory sync decides when (R8)', () => {
    const refusal = given(...syncedUser(), appPasswordCreated(1))
      .when(suspend(FAST_PATH_OFF))
      .thenRefuses(RuleViolationError, 'B2.fast-path-off');
    expect(refusal.rule).toBe('B2');
  });

  it('B2: a cloud-only user may be suspended whatever the policy (the cloud owns it anyway)', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when(suspend(FAST_PATH_OFF))
      .then(suspended());
    given(...readyUser())
      .when(suspend(FAST_PATH_ON))
      .then(suspended());
  });

  it('B2: a repeated HR trigger emits nothing; the reason is stored trimmed', () => {
    given(...syncedUser(), suspended(5))
      .when(suspend())
      .thenNothing();
    given(...syncedUser())
      .when(suspend(FAST_PATH_ON, { reason: '  HR offboarding 4711 ' }))
      .then(suspended());
  });

  it('B2: only an HR trigger suspends, and it says why', () => {
    for (const origin of ['admin', 'directory-sync', 'user']) {
      given(...syncedUser())
        .when(suspend(FAST_PATH_ON, { origin }))
        .thenRefuses(ValidationError, 'B2.invalid-origin');
    }
    for (const reason of ['', '   ', 'line\nbreak', 'x'.repeat(501)]) {
      given(...syncedUser())
        .when(suspend(FAST_PATH_ON, { reason }))
        .thenRefuses(ValidationError, 'B2.invalid-reason');
    }
  });

  it('B2: the modelled sync still applies later: DisableUser then DeleteUser on a suspended user work as usual', () => {
    const history: UserEvent[] = [...syncedUser(), appPasswordCreated(1), suspended()];
    const disable: UserCommand = {
      type: 'DisableUser',
      data: { ...ids, origin: 'directory-sync' },
      metadata: { now: at(30) },
    };
    given(...history)
      .when(disable)
      .then({
        type: 'UserDisabled',
        data: { userId: USER_ID, origin: 'directory-sync', disabledAt: at(30).toISOString() },
      });
    history.push(...userDecider.decide(disable, foldEvents(userDecider, history)));
    given(...history)
      .when({ type: 'DeleteUser', data: { ...ids, origin: 'directory-sync' }, metadata: { now: at(40) } })
      .then(
        {
          type: 'AppPasswordRevoked',
          data: {
            userId: USER_ID,
            appPasswordId: appPasswordId(1),
            reason: 'account-deleted',
            revokedAt: at(40).toISOString(),
          },
        },
        {
          type: 'UserDeleted',
          data: { userId: USER_ID, origin: 'directory-sync', deletedAt: at(40).toISOString() },
        },
      );
  });

  it('B2: a later enable by the directory does not lift the suspension; only an admin does', () => {
    const history: UserEvent[] = [
      ...syncedUser(),
      suspended(),
      {
        type: 'UserDisabled',
        data: { userId: USER_ID, origin: 'directory-sync', disabledAt: at(11).toISOString() },
      },
      {
        type: 'UserEnabled',
        data: { userId: USER_ID, origin: 'directory-sync', enabledAt: at(12).toISOString() },
      },
    ];
    expect(foldEvents(userDecider, history)).toMatchObject({ status: 'active', signInsSuspended: true });
    given(...history)
      .when(resume())
      .then({
        type: 'UserSignInsResumed',
        data: { userId: USER_ID, origin: 'admin', resumedAt: at(20).toISOString() },
      });
  });

  it('B2: resuming is an admin act (also for a synced user) and changes nothing when not suspended', () => {
    given(...syncedUser(), suspended())
      .when(resume('hr'))
      .thenRefuses(ValidationError, 'B2.invalid-origin');
    given(...syncedUser(), suspended())
      .when(resume('directory-sync'))
      .thenRefuses(ValidationError, 'B2.invalid-origin');
    given(...syncedUser())
      .when(resume())
      .thenNothing();
  });

  it('B2: a suspended user cannot create an app password that could never sign in', () => {
    given(...readyUser(), suspended())
      .when({
        type: 'CreateAppPassword',
        data: {
          ...ids,
          appPasswordId: appPasswordId(1),
          name: 'Phone',
          verifier: verifier(1),
          tenantPolicy: policy(),
        },
        metadata: { now: at(15) },
      })
      .thenRefuses(RuleViolationError, 'B2.sign-ins-suspended');
  });

  it('R15: a deleted account has nothing left to suspend or resume', () => {
    const deleted: UserEvent = {
      type: 'UserDeleted',
      data: { userId: USER_ID, origin: 'directory-sync', deletedAt: at(5).toISOString() },
    };
    given(...syncedUser(), deleted)
      .when(suspend())
      .thenRefuses(ConflictError, 'R15.account-deleted');
    given(...syncedUser(), suspended(1), deleted)
      .when(resume())
      .thenRefuses(ConflictError, 'R15.account-deleted');
  });
});
