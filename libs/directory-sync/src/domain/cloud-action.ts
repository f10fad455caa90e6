import { CommandMetadata, UserCommand } from '../../../app-passwords/src/domain';
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
  /**
   * B6: the on-premises pwdLastSet the cloud user's password follows (its baseline). Absent for a
   * user provisioned before pwdLastSet was read, until the mirror first reads it.
   */
  pwdLastSet?: string;
}

/** What the directory says the cloud should hold for an object, after a change. */
export interface TargetState {
  present: boolean;
  upn: string;
  disabled: boolean;
  /** B6: AD's pwdLastSet, when it has been read (changes detected before it was read lack it). */
  pwdLastSet?: string;
}

/**
 * What applying a change does in the cloud. Entra syncs state, not history: the actions bring the
 * cloud from what it holds to the latest state seen, whatever happened in between.
 */
export type CloudAction =
  | { type: 'provision'; userId: string; upn: string; disabled: boolean; pwdLastSet?: string }
  | { type: 'rename'; userId: string; upn: string; previousUpn: string }
  | { type: 'disable'; userId: string }
  | { type: 'enable'; userId: string }
  | { type: 'delete'; userId: string }
  /** B6: the password was reset on premises; pwdLastSet is the new baseline (a timestamp, no secret). */
  | { type: 'password-reset'; userId: string; pwdLastSet: string };

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
    const { upn, disabled, pwdLastSet } = target;
    // A new cloud user starts from the password it has on premises: its baseline, not a reset.
    return [
      { type: 'provision', userId, upn, disabled, ...(pwdLastSet === undefined ? {} : { pwdLastSet }) },
    ];
  }
  const { userId } = cloud;
  const actions: CloudAction[] = [];
  // The user commands of a change run in order and stop at the first refusal; what ran is recorded
  // (DirectoryChangePartiallyApplied) and the change is retried for the rest. A rename is refused
  // while another cloud user holds the name (user.username-taken), until an admin sorts it out. So
  // what stops app passwords comes before the rename, and what lets them work again after it: a
  // refused rename never holds back a reset or a disable (fail closed), and an enable never lets an
  // app password verify that the reset of the same change revokes.
  // B6 fails closed: any pwdLastSet other than the baseline is a reset (without a baseline there is
  // nothing to compare: see CloudUser).
  const { pwdLastSet } = target;
  if (pwdLastSet !== undefined && cloud.pwdLastSet !== undefined && pwdLastSet !== cloud.pwdLastSet)
    actions.push({ type: 'password-reset', userId, pwdLastSet });
  if (!cloud.disabled && target.disabled) actions.push({ type: 'disable', userId });
  if (cloud.upn !== target.upn)
    actions.push({ type: 'rename', userId, upn: target.upn, previousUpn: cloud.upn });
  if (cloud.disabled && !target.disabled) actions.push({ type: 'enable', userId });
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
          ...(action.pwdLastSet === undefined ? {} : { pwdLastSet: action.pwdLastSet }),
        };
      case 'rename':
        return user && { ...user, upn: action.upn };
      case 'disable':
        return user && { ...user, disabled: true };
      case 'enable':
        return user && { ...user, disabled: false };
      case 'delete':
        return user && { ...user, present: false, incarnation: user.incarnation + 1 };
      case 'password-reset':
        return user && { ...user, pwdLastSet: action.pwdLastSet };
    }
  }, cloud);

/**
 * A user command as the directory sync asks for it: where a rule depends on the tenant (B6 for a
 * reset), the application adds the tenant's policy as it stands when the command runs.
 */
export type SyncUserCommand = UserCommand extends infer C
  ? C extends { type: infer T; data: infer D }
    ? { type: T; data: Omit<D, 'tenantPolicy'>; metadata: CommandMetadata }
    : never
  : never;

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
 * - password-reset → ResetPassword with the new pwdLastSet: the user aggregate records the reset
 *   (`UserPasswordReset`, for the audit trail) and, if the tenant opted in to B6, revokes every app
 *   password; without B6 they keep working (R5). Run again with the same pwdLastSet (a retried
 *   propagation), it changes nothing.
 */
export const userCommandsFor = (
  tenantId: string,
  actions: readonly CloudAction[],
  now: Date,
): { commands: SyncUserCommand[] } => {
  const commands: SyncUserCommand[] = [];
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
      case 'password-reset':
        commands.push({
          type: 'ResetPassword',
          data: { ...data, origin, pwdLastSet: action.pwdLastSet },
          metadata,
        });
        break;
    }
  }
  return { commands };
};
