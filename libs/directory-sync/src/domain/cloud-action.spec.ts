import { foldEvents, UserEvent, userDecider } from '../../../app-passwords/src/domain';
import { CloudUser, cloudActions, userCommandsFor } from './cloud-action';
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
      { type: 'rename', userId, upn: 'new@contoso.example', previousUpn: upn(1) },
      { type: 'disable', userId },
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

describe('the user commands an applied change causes', () => {
  const run = (events: UserEvent[], actions: Parameters<typeof userCommandsFor>[1]) => {
    const { commands } = userCommandsFor(TENANT_ID, actions, T0);
    for (const command of commands)
      events.push(...userDecider.decide(command, foldEvents(userDecider, events)));
    return { commands };
  };

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
