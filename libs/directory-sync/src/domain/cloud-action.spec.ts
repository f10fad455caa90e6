import { foldEvents, UserCommand, UserEvent, userDecider } from '../../../app-passwords/src/domain';
import {
  appPasswordCreated,
  appPasswordId,
  mfaRegistered,
  policy,
  userProvisioned,
} from '../../../app-passwords/src/domain/testing/fixtures';
import { applyCloudActions, CloudUser, cloudActions, userCommandsFor } from './cloud-action';
import { syncedUserIdFor } from './name-based-uuid';
import { guid, T0, TENANT_ID, OTHER_TENANT_ID, upn } from './testing/fixtures';

const present: CloudUser = {
  userId: syncedUserIdFor(TENANT_ID, guid(1), 0),
  upn: upn(1),
  disabled: false,
  present: true,
  incarnation: 0,
};
const userId = present.userId;

describe('what a change does in the cloud', () => {
  it('R8: created → provision; disabled → disable; enabled → enable; deleted → delete', () => {
    expect(
      cloudActions(TENANT_ID, guid(1), undefined, { present: true, upn: upn(1), disabled: false }),
    ).toEqual([{ type: 'provision', userId, upn: upn(1), disabled: false }]);
    expect(cloudActions(TENANT_ID, guid(1), present, { present: true, upn: upn(1), disabled: true })).toEqual(
      [{ type: 'disable', userId }],
    );
    expect(
      cloudActions(
        TENANT_ID,
        guid(1),
        { ...present, disabled: true },
        { present: true, upn: upn(1), disabled: false },
      ),
    ).toEqual([{ type: 'enable', userId }]);
    expect(
      cloudActions(TENANT_ID, guid(1), present, { present: false, upn: upn(1), disabled: false }),
    ).toEqual([{ type: 'delete', userId }]);
  });

  it('brings the cloud to the latest state, whatever happened in between (nothing if it already is)', () => {
    expect(
      cloudActions(TENANT_ID, guid(1), present, {
        present: true,
        upn: 'new@contoso.example',
        disabled: true,
      }),
    ).toEqual([
      { type: 'disable', userId },
      { type: 'rename', userId, upn: 'new@contoso.example', previousUpn: upn(1) },
    ]);
    expect(
      cloudActions(TENANT_ID, guid(1), present, { present: true, upn: upn(1), disabled: false }),
    ).toEqual([]);
    expect(
      cloudActions(TENANT_ID, guid(1), undefined, { present: false, upn: upn(1), disabled: false }),
    ).toEqual([]);
  });

  it('R15: an object restored after its cloud user was deleted comes back as a new user', () => {
    const deleted = { ...present, present: false, incarnation: 1 };
    const [action] = cloudActions(TENANT_ID, guid(1), deleted, {
      present: true,
      upn: upn(1),
      disabled: false,
    });
    expect(action).toMatchObject({ type: 'provision', userId: syncedUserIdFor(TENANT_ID, guid(1), 1) });
    expect(syncedUserIdFor(TENANT_ID, guid(1), 1)).not.toBe(userId);
  });

  it('derives user ids per tenant: one objectGUID in two directories is two users', () => {
    expect(syncedUserIdFor(OTHER_TENANT_ID, guid(1), 0)).not.toBe(syncedUserIdFor(TENANT_ID, guid(1), 0));
    expect(userId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('B6: what an on-premises password reset does in the cloud', () => {
  const baseline = { ...present, pwdLastSet: '134000000000000000' };
  const target = { present: true, upn: upn(1), disabled: false, pwdLastSet: '134000000000000000' };
  const reset = '134000000600000000';

  it('B6: a pwdLastSet other than the baseline the cloud holds is a password reset; the same one read again is none', () => {
    expect(cloudActions(TENANT_ID, guid(1), baseline, { ...target, pwdLastSet: reset })).toEqual([
      { type: 'password-reset', userId, pwdLastSet: reset },
    ]);
    // "User must change password at next logon" ticked (0) and unticked (now): resets too (fail closed).
    expect(cloudActions(TENANT_ID, guid(1), baseline, { ...target, pwdLastSet: '0' })).toEqual([
      { type: 'password-reset', userId, pwdLastSet: '0' },
    ]);
    const after = applyCloudActions(baseline, [{ type: 'password-reset', userId, pwdLastSet: reset }]);
    expect(after).toEqual({ ...baseline, pwdLastSet: reset });
    expect(cloudActions(TENANT_ID, guid(1), after, { ...target, pwdLastSet: reset })).toEqual([]);
    // A full resync reading the baseline again.
    expect(cloudActions(TENANT_ID, guid(1), baseline, target)).toEqual([]);
  });

  it('B6: provisioning records pwdLastSet as the baseline, not as a reset', () => {
    const actions = cloudActions(TENANT_ID, guid(1), undefined, target);
    expect(actions).toEqual([
      { type: 'provision', userId, upn: upn(1), disabled: false, pwdLastSet: target.pwdLastSet },
    ]);
    expect(applyCloudActions(undefined, actions)).toEqual(baseline);
    // A user provisioned before pwdLastSet was read has no baseline: nothing to reset from.
    expect(cloudActions(TENANT_ID, guid(1), present, { ...target, pwdLastSet: reset })).toEqual([]);
  });

  it('B6, R15: a reset and a disable come before a rename in their change, an enable after it: a refused rename holds back only what lets app passwords work', () => {
    expect(
      cloudActions(TENANT_ID, guid(1), baseline, {
        ...target,
        upn: 'new@contoso.example',
        disabled: true,
        pwdLastSet: reset,
      }),
    ).toEqual([
      { type: 'password-reset', userId, pwdLastSet: reset },
      { type: 'disable', userId },
      { type: 'rename', userId, upn: 'new@contoso.example', previousUpn: upn(1) },
    ]);
    expect(
      cloudActions(
        TENANT_ID,
        guid(1),
        { ...baseline, disabled: true },
        { ...target, upn: 'new@contoso.example' },
      ),
    ).toEqual([
      { type: 'rename', userId, upn: 'new@contoso.example', previousUpn: upn(1) },
      { type: 'enable', userId },
    ]);
    expect(
      cloudActions(TENANT_ID, guid(1), { ...baseline, disabled: true }, { ...target, pwdLastSet: reset }),
    ).toEqual([
      { type: 'password-reset', userId, pwdLastSet: reset },
      { type: 'enable', userId },
    ]);
    // A deletion deletes (R15 revokes every app password anyway).
    expect(
      cloudActions(TENANT_ID, guid(1), baseline, { ...target, present: false, pwdLastSet: reset }),
    ).toEqual([{ type: 'delete', userId }]);
  });
});

describe('the user commands an applied change causes', () => {
  const run = (
    events: UserEvent[],
    actions: Parameters<typeof userCommandsFor>[1],
    tenantPolicy = policy(),
  ) => {
    const { commands } = userCommandsFor(TENANT_ID, actions, T0);
    for (const command of commands) {
      // As the application runs them: with the tenant's policy where a rule needs it.
      const withPolicy = { ...command, data: { ...command.data, tenantPolicy } } as UserCommand;
      events.push(...userDecider.decide(withPolicy, foldEvents(userDecider, events)));
    }
    return { commands };
  };

  /** A synced user, MFA enforced and registered, with app password 1. */
  const syncedUserWithAppPassword = (): UserEvent[] => [
    userProvisioned({ userId, source: 'synced', origin: 'directory-sync' }),
    { ...mfaRegistered(), data: { ...mfaRegistered().data, userId } } as UserEvent,
    appPasswordCreated(1, { userId }),
  ];
  const pwdLastSet = '134000000600000000';
  const appPasswordStatus = (events: UserEvent[], n: number) => {
    const state = foldEvents(userDecider, events);
    return state.status === 'absent' ? undefined : state.appPasswords[appPasswordId(n)]?.status;
  };

  it('B6: an on-premises password reset of a synced user revokes their app passwords when the tenant opted in', () => {
    const events = syncedUserWithAppPassword();
    const { commands } = run(
      events,
      [{ type: 'password-reset', userId, pwdLastSet }],
      policy({ revokeOnPasswordReset: true }),
    );
    expect(commands).toEqual([
      {
        type: 'ResetPassword',
        data: { tenantId: TENANT_ID, userId, origin: 'directory-sync', pwdLastSet },
        metadata: { now: T0 },
      },
    ]);
    expect(events.slice(3)).toEqual([
      {
        type: 'UserPasswordReset',
        data: { userId, origin: 'directory-sync', resetAt: T0.toISOString(), pwdLastSet },
      },
      {
        type: 'AppPasswordRevoked',
        data: {
          userId,
          appPasswordId: appPasswordId(1),
          reason: 'password-reset',
          revokedAt: T0.toISOString(),
        },
      },
    ]);
    expect(appPasswordStatus(events, 1)).toBe('revoked');
  });

  it('R5: an on-premises password reset of a synced user does not revoke their app passwords when the tenant did not opt in to B6', () => {
    const events = syncedUserWithAppPassword();
    run(events, [{ type: 'password-reset', userId, pwdLastSet }], policy({ revokeOnPasswordReset: false }));
    expect(events.slice(3)).toEqual([
      {
        type: 'UserPasswordReset',
        data: { userId, origin: 'directory-sync', resetAt: T0.toISOString(), pwdLastSet },
      },
    ]);
    expect(appPasswordStatus(events, 1)).toBe('active');
  });

  it('B6: a reset propagated again (a retried job) is recorded once and revokes nothing created since', () => {
    const events = syncedUserWithAppPassword();
    const optedIn = policy({ revokeOnPasswordReset: true });
    run(events, [{ type: 'password-reset', userId, pwdLastSet }], optedIn);
    events.push(appPasswordCreated(2, { userId }));
    const before = events.length;
    run(events, [{ type: 'password-reset', userId, pwdLastSet }], optedIn);
    expect(events).toHaveLength(before);
    expect(appPasswordStatus(events, 2)).toBe('active');

    // The next reset on premises (another pwdLastSet) is a reset again.
    run(events, [{ type: 'password-reset', userId, pwdLastSet: '134000000900000000' }], optedIn);
    expect(appPasswordStatus(events, 2)).toBe('revoked');
  });

  it('B6: a disabled synced user reset on premises is disabled and reset (its app passwords revoked)', () => {
    const events = syncedUserWithAppPassword();
    run(
      events,
      [
        { type: 'password-reset', userId, pwdLastSet },
        { type: 'disable', userId },
      ],
      policy({ revokeOnPasswordReset: true }),
    );
    expect(events.slice(3).map((event) => event.type)).toEqual([
      'UserPasswordReset',
      'AppPasswordRevoked',
      'UserDisabled',
    ]);
  });

  it('R8: provisions a synced user with origin directory-sync and MFA disabled, then the user decider accepts the lifecycle', () => {
    const events: UserEvent[] = [];
    const { commands } = run(events, [{ type: 'provision', userId, upn: upn(1), disabled: false }]);
    expect(commands[0]).toMatchObject({
      type: 'ProvisionUser',
      data: { source: 'synced', origin: 'directory-sync', mfa: 'disabled', username: upn(1) },
    });
    run(events, [{ type: 'disable', userId }]);
    run(events, [{ type: 'enable', userId }]);
    run(events, [{ type: 'delete', userId }]);
    expect(events.map((event) => event.type)).toEqual([
      'UserProvisioned',
      'UserDisabled',
      'UserEnabled',
      'UserDeleted',
    ]);
    expect(events.every((event) => !('origin' in event.data) || event.data.origin === 'directory-sync')).toBe(
      true,
    );
  });

  it('R15: a user provisioned disabled is provisioned, then disabled', () => {
    const events: UserEvent[] = [];
    const { commands } = run(events, [{ type: 'provision', userId, upn: upn(1), disabled: true }]);
    expect(commands.map((command) => command.type)).toEqual(['ProvisionUser', 'DisableUser']);
    expect(foldEvents(userDecider, events)).toMatchObject({ status: 'disabled', source: 'synced' });
  });

  it('R8: a rename follows the UPN: RenameUser with origin directory-sync, which the user decider accepts', () => {
    const events: UserEvent[] = [];
    run(events, [{ type: 'provision', userId, upn: upn(1), disabled: false }]);
    const rename = { type: 'rename' as const, userId, upn: 'New@Contoso.example', previousUpn: upn(1) };
    expect(userCommandsFor(TENANT_ID, [rename, { type: 'disable', userId }], T0)).toEqual({
      commands: [
        {
          type: 'RenameUser',
          data: { tenantId: TENANT_ID, userId, username: 'New@Contoso.example', origin: 'directory-sync' },
          metadata: { now: T0 },
        },
        {
          type: 'DisableUser',
          data: { tenantId: TENANT_ID, userId, origin: 'directory-sync' },
          metadata: { now: T0 },
        },
      ],
    });
    run(events, [rename, { type: 'disable', userId }]);
    expect(events.slice(1)).toEqual([
      {
        type: 'UserRenamed',
        data: {
          userId,
          username: 'new@contoso.example',
          previousUsername: upn(1),
          origin: 'directory-sync',
          renamedAt: T0.toISOString(),
        },
      },
      { type: 'UserDisabled', data: { userId, origin: 'directory-sync', disabledAt: T0.toISOString() } },
    ]);
    expect(foldEvents(userDecider, events)).toMatchObject({ username: 'new@contoso.example' });
  });
});
