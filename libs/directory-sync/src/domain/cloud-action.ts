import { UserCommand } from '../../../app-passwords/src/domain';
import { syncedUserIdFor } from './name-based-uuid';

/** What the cloud holds for a synced object, as far as applied directory changes made it. */
export interface CloudUser {
  userId: string;
  upn: string;
  disabled: boolean;
  /** False once deleted: the user stream is deleted for good (R15). */
  present: boolean;
  /** How many cloud users this object has had deleted: the next provisioning's incarnation. */
  incarnation: number;
}

/** What the directory says the cloud should hold for an object, after a change. */
export interface TargetState {
  present: boolean;
  upn: string;
  disabled: boolean;
}

/**
 * What applying a change does in the cloud. Entra syncs state, not history: the actions bring the
 * cloud from what it holds to the latest state seen, whatever happened in between.
 */
export type CloudAction =
  | { type: 'provision'; userId: string; upn: string; disabled: boolean }
  | { type: 'rename'; userId: string; upn: string; previousUpn: string }
  | { type: 'disable'; userId: string }
  | { type: 'enable'; userId: string }
  | { type: 'delete'; userId: string };

/** The user id an object has, or will get when next provisioned. */
export const plannedUserId = (tenantId: string, objectGuid: string, cloud: CloudUser | undefined): string =>
  cloud?.present ? cloud.userId : syncedUserIdFor(tenantId, objectGuid, cloud?.incarnation ?? 0);

export const cloudActions = (
  tenantId: string,
  objectGuid: string,
  cloud: CloudUser | undefined,
  target: TargetState,
): CloudAction[] => {
  if (!target.present) return cloud?.present ? [{ type: 'delete', userId: cloud.userId }] : [];
  if (!cloud?.present) {
    const userId = plannedUserId(tenantId, objectGuid, cloud);
    return [{ type: 'provision', userId, upn: target.upn, disabled: target.disabled }];
  }
  const { userId } = cloud;
  const actions: CloudAction[] = [];
  if (cloud.upn !== target.upn)
    actions.push({ type: 'rename', userId, upn: target.upn, previousUpn: cloud.upn });
  if (cloud.disabled !== target.disabled)
    actions.push({ type: target.disabled ? 'disable' : 'enable', userId });
  return actions;
};

export const applyCloudActions = (
  cloud: CloudUser | undefined,
  actions: readonly CloudAction[],
): CloudUser | undefined =>
  actions.reduce<CloudUser | undefined>((user, action) => {
    switch (action.type) {
      case 'provision':
        return {
          userId: action.userId,
          upn: action.upn,
          disabled: action.disabled,
          present: true,
          incarnation: user?.incarnation ?? 0,
        };
      case 'rename':
        return user && { ...user, upn: action.upn };
      case 'disable':
        return user && { ...user, disabled: true };
      case 'enable':
        return user && { ...user, disabled: false };
      case 'delete':
        return user && { ...user, present: false, incarnation: user.incarnation + 1 };
    }
  }, cloud);

/**
 * The user commands an applied change causes, in order, all with origin `directory-sync` (a synced
 * user's lifecycle belongs to the directory).
 *
 * - provision → ProvisionUser, source `synced`, MFA `disabled`: directory sync brings identities, and
 *   MFA is cloud-side state an admin sets (as in Entra), so nobody gets app passwords (R1) before an
 *   admin turns MFA on. Provisioned disabled → then DisableUser.
 * - disable → DisableUser, enable → EnableUser, delete → DeleteUser (R15: app passwords deleted too).
 * - rename → RenameUser to the new UPN ("a rename follows the UPN"). If another live user of the
 *   tenant holds that name, the command is refused with `user.username-taken`.
 */
export const userCommandsFor = (
  tenantId: string,
  actions: readonly CloudAction[],
  now: Date,
): { commands: UserCommand[] } => {
  const commands: UserCommand[] = [];
  const metadata = { now };
  const origin = 'directory-sync' as const;
  for (const action of actions) {
    const data = { tenantId, userId: action.userId };
    switch (action.type) {
      case 'provision':
        commands.push({
          type: 'ProvisionUser',
          data: { ...data, username: action.upn, source: 'synced', roles: ['user'], mfa: 'disabled', origin },
          metadata,
        });
        if (action.disabled) commands.push({ type: 'DisableUser', data: { ...data, origin }, metadata });
        break;
      case 'disable':
        commands.push({ type: 'DisableUser', data: { ...data, origin }, metadata });
        break;
      case 'enable':
        commands.push({ type: 'EnableUser', data: { ...data, origin }, metadata });
        break;
      case 'delete':
        commands.push({ type: 'DeleteUser', data: { ...data, origin }, metadata });
        break;
      case 'rename':
        commands.push({ type: 'RenameUser', data: { ...data, username: action.upn, origin }, metadata });
        break;
    }
  }
  return { commands };
};
