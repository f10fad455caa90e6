import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from './domain-error';
import { DeciderSpecification } from './testing/decider.specification';
import {
  appPasswordCreated,
  appPasswordId,
  at,
  mfaRegistered,
  OTHER_TENANT_ID,
  policy,
  readyUser,
  T0,
  TENANT_ID,
  USER_ID,
  userProvisioned,
} from './testing/fixtures';
import { UserCommand } from './user.commands';
import { shouldPromptForAppPassword, userDecider } from './user.decider';
import { LifecycleOrigin } from './user.events';

const given = DeciderSpecification.for(userDecider);
const ids = { tenantId: TENANT_ID, userId: USER_ID };
const meta = (minutes = 10) => ({ now: at(minutes) });
const lifecycle = (
  type: 'DisableUser' | 'EnableUser' | 'DeleteUser',
  origin: LifecycleOrigin = 'admin',
): UserCommand => ({ type, data: { ...ids, origin }, metadata: meta() }) as UserCommand;

describe('user decider: the account', () => {
  it('provisions a cloud user with a normalised username and safe defaults', () => {
    given()
      .when({
        type: 'ProvisionUser',
        data: { ...ids, username: '  Alice@Contoso.EXAMPLE ', source: 'cloud', origin: 'admin' },
        metadata: { now: T0 },
      })
      .then(userProvisioned({ mfa: 'disabled' }));
  });

  it('refuses a username that is not a UPN, and a second provisioning', () => {
    given()
      .when({
        type: 'ProvisionUser',
        data: { ...ids, username: 'alice', source: 'cloud', origin: 'admin' },
        metadata: { now: T0 },
      })
      .thenRefuses(ValidationError, 'user.invalid-username');
    given(userProvisioned())
      .when({
        type: 'ProvisionUser',
        data: { ...ids, username: 'alice@contoso.example', source: 'cloud', origin: 'admin' },
        metadata: { now: T0 },
      })
      .thenRefuses(ConflictError, 'user.already-exists');
  });

  it('answers a user of another tenant exactly like a missing user', () => {
    const command: UserCommand = {
      type: 'SetMfaState',
      data: { tenantId: OTHER_TENANT_ID, userId: USER_ID, mfa: 'enabled' },
      metadata: meta(),
    };
    given(userProvisioned()).when(command).thenRefuses(NotFoundError, 'user.not-found');
    given()
      .when({ ...command, data: { ...command.data, tenantId: TENANT_ID } })
      .thenRefuses(NotFoundError, 'user.not-found');
  });

  it('R15: disabling and enabling an account keeps its app passwords', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when(lifecycle('DisableUser'))
      .then({
        type: 'UserDisabled',
        data: { userId: USER_ID, origin: 'admin', disabledAt: at(10).toISOString() },
      });
    given(...readyUser(), appPasswordCreated(1), {
      type: 'UserDisabled',
      data: { userId: USER_ID, origin: 'admin', disabledAt: at(5).toISOString() },
    })
      .when(lifecycle('EnableUser'))
      .then({
        type: 'UserEnabled',
        data: { userId: USER_ID, origin: 'admin', enabledAt: at(10).toISOString() },
      });
  });

  it('R15: deleting an account revokes every live app password in the same decision', () => {
    given(...readyUser(), appPasswordCreated(1), appPasswordCreated(2), appPasswordCreated(3), {
      type: 'AppPasswordRevoked',
      data: {
        userId: USER_ID,
        appPasswordId: appPasswordId(2),
        reason: 'user-deleted-it',
        revokedAt: at(1).toISOString(),
      },
    })
      .when(lifecycle('DeleteUser'))
      .then(
        {
          type: 'AppPasswordRevoked',
          data: {
            userId: USER_ID,
            appPasswordId: appPasswordId(1),
            reason: 'account-deleted',
            revokedAt: at(10).toISOString(),
          },
        },
        {
          type: 'AppPasswordRevoked',
          data: {
            userId: USER_ID,
            appPasswordId: appPasswordId(3),
            reason: 'account-deleted',
            revokedAt: at(10).toISOString(),
          },
        },
        { type: 'UserDeleted', data: { userId: USER_ID, origin: 'admin', deletedAt: at(10).toISOString() } },
      );
  });

  it('R15: a deleted account is deleted for good: it cannot be enabled again', () => {
    const deleted = userDecider.decide(
      lifecycle('DeleteUser'),
      userDecider.evolve(userDecider.initialState(), userProvisioned()),
    );
    given(userProvisioned(), ...deleted)
      .when(lifecycle('EnableUser'))
      .thenRefuses(ConflictError, 'R15.account-deleted');
    given(userProvisioned(), ...deleted)
      .when(lifecycle('DeleteUser'))
      .thenNothing();
  });

  it('lifecycle commands that change nothing emit nothing (directory sync may repeat itself)', () => {
    given(userProvisioned()).when(lifecycle('EnableUser')).thenNothing();
    given(userProvisioned({ source: 'synced', origin: 'directory-sync' }), {
      type: 'UserDisabled',
      data: { userId: USER_ID, origin: 'directory-sync', disabledAt: at(1).toISOString() },
    })
      .when(lifecycle('DisableUser', 'directory-sync'))
      .thenNothing();
  });

  it.each<LifecycleOrigin>(['admin', 'hr'])(
    'R8: a synced user cannot be disabled or deleted by %s in the cloud: the directory owns it',
    (origin) => {
      const synced = userProvisioned({ source: 'synced', origin: 'directory-sync' });
      given(synced)
        .when(lifecycle('DisableUser', origin))
        .thenRefuses(RuleViolationError, 'R8.managed-on-premises');
      given(synced)
        .when(lifecycle('DeleteUser', origin))
        .thenRefuses(RuleViolationError, 'R8.managed-on-premises');
    },
  );

  it('R8: directory sync disables a synced user; it does not own a cloud-only one', () => {
    given(userProvisioned({ source: 'synced', origin: 'directory-sync' }))
      .when(lifecycle('DisableUser', 'directory-sync'))
      .then({
        type: 'UserDisabled',
        data: { userId: USER_ID, origin: 'directory-sync', disabledAt: at(10).toISOString() },
      });
    given(userProvisioned())
      .when(lifecycle('DisableUser', 'directory-sync'))
      .thenRefuses(ValidationError, 'user.not-synced');
  });

  it('changes the MFA state and the modern-auth requirement, once', () => {
    given(userProvisioned({ mfa: 'disabled' }))
      .when({ type: 'SetMfaState', data: { ...ids, mfa: 'enabled' }, metadata: meta() })
      .then({
        type: 'UserMfaStateChanged',
        data: { userId: USER_ID, mfa: 'enabled', changedAt: at(10).toISOString() },
      });
    given(userProvisioned())
      .when({ type: 'SetMfaState', data: { ...ids, mfa: 'enforced' }, metadata: meta() })
      .thenNothing();
    given(userProvisioned())
      .when({
        type: 'SetModernAuthRequirement',
        data: { ...ids, requiresModernAuth: true },
        metadata: meta(),
      })
      .then({
        type: 'UserModernAuthRequirementChanged',
        data: { userId: USER_ID, requiresModernAuth: true, changedAt: at(10).toISOString() },
      });
  });

  it('R5: resetting the account password does not revoke app passwords', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when({
        type: 'ResetPassword',
        data: { ...ids, origin: 'admin', tenantPolicy: policy() },
        metadata: meta(),
      })
      .then({
        type: 'UserPasswordReset',
        data: { userId: USER_ID, origin: 'admin', resetAt: at(10).toISOString() },
      });
  });

  it('B6: with revoke-on-reset on, a password reset revokes every app password', () => {
    given(...readyUser(), appPasswordCreated(1), appPasswordCreated(2))
      .when({
        type: 'ResetPassword',
        data: { ...ids, origin: 'admin', tenantPolicy: policy({ revokeOnPasswordReset: true }) },
        metadata: meta(),
      })
      .then(
        {
          type: 'UserPasswordReset',
          data: { userId: USER_ID, origin: 'admin', resetAt: at(10).toISOString() },
        },
        {
          type: 'AppPasswordRevoked',
          data: {
            userId: USER_ID,
            appPasswordId: appPasswordId(1),
            reason: 'password-reset',
            revokedAt: at(10).toISOString(),
          },
        },
        {
          type: 'AppPasswordRevoked',
          data: {
            userId: USER_ID,
            appPasswordId: appPasswordId(2),
            reason: 'password-reset',
            revokedAt: at(10).toISOString(),
          },
        },
      );
  });
});

describe('user decider: MFA registration (R11)', () => {
  const complete = (allowed: boolean): UserCommand => ({
    type: 'CompleteMfaRegistration',
    data: { ...ids, tenantPolicy: policy({ appPasswordsAllowed: allowed }) },
    metadata: meta(),
  });

  it('R11: while app passwords are allowed, completing registration prompts to create one', () => {
    given(userProvisioned())
      .when(complete(true))
      .then({
        type: 'MfaRegistrationCompleted',
        data: { userId: USER_ID, completedAt: at(10).toISOString(), appPasswordPromptOffered: true },
      });
  });

  it('R11: while app passwords are forbidden, there is no prompt', () => {
    const [event] = given(userProvisioned()).when(complete(false)).events();
    expect(event).toMatchObject({
      type: 'MfaRegistrationCompleted',
      data: { appPasswordPromptOffered: false },
    });
  });

  it('R11: only the initial registration prompts; completing it again emits nothing', () => {
    given(userProvisioned(), mfaRegistered()).when(complete(true)).thenNothing();
  });

  it('R11: no prompt for an account that could not create one (modern auth only, MFA off)', () => {
    const allowed = policy();
    const user = {
      status: 'active',
      signInsSuspended: false,
      mfa: 'enabled',
      requiresModernAuth: false,
    } as const;
    expect(shouldPromptForAppPassword(allowed, user)).toBe(true);
    expect(shouldPromptForAppPassword(allowed, { ...user, requiresModernAuth: true })).toBe(false);
    expect(shouldPromptForAppPassword(allowed, { ...user, mfa: 'disabled' })).toBe(false);
  });

  it("R11: no prompt while the user's sign-ins are suspended (B2): creating one would be refused", () => {
    given(userProvisioned(), {
      type: 'UserSignInsSuspended',
      data: { userId: USER_ID, origin: 'hr', reason: 'HR offboarding', suspendedAt: at(5).toISOString() },
    })
      .when(complete(true))
      .then({
        type: 'MfaRegistrationCompleted',
        data: { userId: USER_ID, completedAt: at(10).toISOString(), appPasswordPromptOffered: false },
      });
  });
});

describe('user decider: renames ("a rename follows the UPN")', () => {
  const synced = () => userProvisioned({ source: 'synced', origin: 'directory-sync' });
  const rename = (username: string, origin: LifecycleOrigin = 'admin'): UserCommand => ({
    type: 'RenameUser',
    data: { ...ids, username, origin },
    metadata: meta(),
  });
  const renamed = (
    username: string,
    previousUsername: string,
    origin: LifecycleOrigin = 'admin',
    minutes = 10,
  ) => ({
    type: 'UserRenamed' as const,
    data: { userId: USER_ID, username, previousUsername, origin, renamedAt: at(minutes).toISOString() },
  });

  it('R8: an admin renames a cloud-only user, to the normalised UPN, keeping its app passwords', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when(rename('  Alice.Smith@Contoso.EXAMPLE '))
      .then(renamed('alice.smith@contoso.example', 'alice@contoso.example'));
  });

  it('R8: directory sync renames a synced user; the previous name is the latest one', () => {
    given(synced(), renamed('alice.b@contoso.example', 'alice@contoso.example', 'directory-sync', 5))
      .when(rename('alice.c@contoso.example', 'directory-sync'))
      .then(renamed('alice.c@contoso.example', 'alice.b@contoso.example', 'directory-sync'));
  });

  it.each<LifecycleOrigin>(['admin', 'hr'])(
    'R8: a synced user cannot be renamed by %s in the cloud: the directory owns the UPN',
    (origin) => {
      given(synced())
        .when(rename('bob@contoso.example', origin))
        .thenRefuses(RuleViolationError, 'R8.managed-on-premises');
    },
  );

  it('R8: directory sync does not rename a cloud-only user', () => {
    given(userProvisioned())
      .when(rename('bob@contoso.example', 'directory-sync'))
      .thenRefuses(ValidationError, 'user.not-synced');
  });

  it('refuses a name that is not a UPN', () => {
    given(userProvisioned()).when(rename('alice')).thenRefuses(ValidationError, 'user.invalid-username');
    given(userProvisioned())
      .when(rename('alice @contoso.example'))
      .thenRefuses(ValidationError, 'user.invalid-username');
  });

  it('renaming to the same name, however spelt, emits nothing (directory sync may repeat itself)', () => {
    given(userProvisioned()).when(rename('ALICE@contoso.example')).thenNothing();
    given(synced()).when(rename('alice@contoso.example', 'directory-sync')).thenNothing();
  });

  it('R15: a disabled account can be renamed; a deleted one cannot', () => {
    given(userProvisioned(), {
      type: 'UserDisabled',
      data: { userId: USER_ID, origin: 'admin', disabledAt: at(1).toISOString() },
    })
      .when(rename('bob@contoso.example'))
      .then(renamed('bob@contoso.example', 'alice@contoso.example'));
    given(userProvisioned(), {
      type: 'UserDeleted',
      data: { userId: USER_ID, origin: 'admin', deletedAt: at(1).toISOString() },
    })
      .when(rename('bob@contoso.example'))
      .thenRefuses(ConflictError, 'R15.account-deleted');
  });
});
