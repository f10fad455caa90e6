import { appPasswordNameKey, validateAppPasswordName } from './app-password-name';
import { Decider } from './decider';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from './domain-error';
import { normaliseUsername, requireUuid } from './identifiers';
import { normaliseProtocolScope } from './legacy-protocol';
import { appPasswordLimit, TenantPolicy } from './tenant-policy';
import {
  adLargeInteger,
  CompleteMfaRegistration,
  CreateAppPassword,
  DeleteAppPassword,
  ProvisionUser,
  RenameUser,
  ResetPassword,
  ResumeSignIns,
  SuspendSignIns,
  UserCommand,
} from './user.commands';
import {
  AppPasswordRevocationReason,
  AppPasswordRevoked,
  LifecycleOrigin,
  MFA_STATES,
  USER_ROLES,
  UserEvent,
  UserRole,
} from './user.events';
import {
  activeAppPasswords,
  evolveUser,
  ExistingUser,
  initialUserState,
  DAY_MS,
  liveAppPasswords,
  UserState,
} from './user.state';
import { validateVerifier } from './verifier';

const MAX_SUSPENSION_REASON_LENGTH = 500;

/**
 * R11: whether finishing MFA registration ends with "create an app password". Only while the tenant
 * allows app passwords, and only for someone who could then create one (active, sign-ins not
 * suspended, MFA on, not modern-auth-only): prompting for something R1/R14/R15/B2 would refuse helps
 * nobody.
 */
export const shouldPromptForAppPassword = (
  policy: Pick<TenantPolicy, 'appPasswordsAllowed'>,
  user: Pick<ExistingUser, 'status' | 'signInsSuspended' | 'mfa' | 'requiresModernAuth'>,
): boolean =>
  policy.appPasswordsAllowed &&
  user.status === 'active' &&
  !user.signInsSuspended &&
  user.mfa !== 'disabled' &&
  !user.requiresModernAuth;

/** A user of another tenant is answered exactly like a user that does not exist. */
const requireUser = (state: UserState, data: { tenantId: string; userId: string }): ExistingUser => {
  if (state.status === 'absent' || state.tenantId !== data.tenantId || state.userId !== data.userId) {
    throw new NotFoundError('user.not-found', 'There is no such user.');
  }
  return state;
};

const accountDeleted = (): ConflictError =>
  new ConflictError(
    'R15.account-deleted',
    'R15',
    'This account is deleted, with its app passwords, for good.',
  );

const requireNotDeleted = (user: ExistingUser): ExistingUser => {
  if (user.status === 'deleted') throw accountDeleted();
  return user;
};

const requireActive = (user: ExistingUser): ExistingUser => {
  requireNotDeleted(user);
  if (user.status === 'disabled') {
    throw new RuleViolationError('R15', 'account-disabled', 'This account is disabled.');
  }
  return user;
};

/**
 * A synced user's lifecycle and password belong to the on-premises directory: they reach the cloud
 * only through directory sync (R8), so an admin or HR command here would be undone by the next sync.
 */
const requireOrigin = (source: ExistingUser['source'], origin: LifecycleOrigin): void => {
  if (source === 'synced' && origin !== 'directory-sync') {
    throw new RuleViolationError(
      'R8',
      'managed-on-premises',
      'This user is synced from the on-premises directory: change them there, directory sync brings it here.',
    );
  }
  if (source === 'cloud' && origin === 'directory-sync') {
    throw new ValidationError(
      'user.not-synced',
      undefined,
      'This user is cloud-only: directory sync does not own it.',
    );
  }
};

const revokeAll = (
  user: ExistingUser,
  reason: AppPasswordRevocationReason,
  revokedAt: string,
): AppPasswordRevoked[] =>
  activeAppPasswords(user).map(({ appPasswordId }) => ({
    type: 'AppPasswordRevoked',
    data: { userId: user.userId, appPasswordId, reason, revokedAt },
  }));

const requireUsername = (input: string): string => {
  const username = normaliseUsername(input);
  if (username === undefined) {
    throw new ValidationError(
      'user.invalid-username',
      undefined,
      'A username is a user principal name: name@domain.',
    );
  }
  return username;
};

const provision = (command: ProvisionUser, state: UserState): UserEvent[] => {
  if (state.status !== 'absent') {
    throw new ConflictError('user.already-exists', undefined, 'This user already exists.');
  }
  const { data } = command;
  const username = requireUsername(data.username);
  const roles: UserRole[] = data.roles ?? ['user'];
  if (roles.some((role) => !(USER_ROLES as readonly string[]).includes(role))) {
    throw new ValidationError('user.invalid-role', undefined, `Roles are among: ${USER_ROLES.join(', ')}.`);
  }
  const mfa = data.mfa ?? 'disabled';
  if (!MFA_STATES.includes(mfa)) {
    throw new ValidationError(
      'user.invalid-mfa-state',
      undefined,
      `MFA is one of: ${MFA_STATES.join(', ')}.`,
    );
  }
  if (data.source !== 'cloud' && data.source !== 'synced') {
    throw new ValidationError('user.invalid-source', undefined, 'A user is cloud-only or synced.');
  }
  requireOrigin(data.source, data.origin);
  return [
    {
      type: 'UserProvisioned',
      data: {
        userId: requireUuid('userId', data.userId),
        tenantId: requireUuid('tenantId', data.tenantId),
        username,
        source: data.source,
        roles: [...new Set(roles)],
        mfa,
        requiresModernAuth: data.requiresModernAuth ?? false,
        origin: data.origin,
        provisionedAt: command.metadata.now.toISOString(),
      },
    },
  ];
};

/**
 * "A rename follows the UPN": a synced user's name belongs to the directory (R8), a cloud-only user's
 * to an admin. A disabled user can be renamed; a deleted one cannot. Whether another live user of the
 * tenant already holds the name is a cross-stream fact: the accounts read model's unique index
 * refuses it in the same transaction, and the application answers `user.username-taken`.
 */
const rename = (command: RenameUser, user: ExistingUser): UserEvent[] => {
  requireNotDeleted(user);
  requireOrigin(user.source, command.data.origin);
  const username = requireUsername(command.data.username);
  if (username === user.username) return [];
  return [
    {
      type: 'UserRenamed',
      data: {
        userId: user.userId,
        username,
        previousUsername: user.username,
        origin: command.data.origin,
        renamedAt: command.metadata.now.toISOString(),
      },
    },
  ];
};

const requireSuspensionReason = (input: unknown): string => {
  const reason = typeof input === 'string' ? input.trim() : '';
  if (reason.length === 0 || reason.length > MAX_SUSPENSION_REASON_LENGTH || /\p{Cc}/u.test(reason)) {
    throw new ValidationError(
      'B2.invalid-reason',
      'B2',
      `A suspension says why, in 1 to ${MAX_SUSPENSION_REASON_LENGTH} characters on one line.`,
    );
  }
  return reason;
};

/**
 * B2, the fast path. For a synced user this is the one cloud-side act that does not wait for the
 * directory (R8), so the tenant must have opted in. For a cloud-only user the cloud is the authority
 * anyway (HR could disable the account outright), so it is allowed whatever the policy: harmless.
 * Independent of the account's status, and undone only by an admin's ResumeSignIns, not by a later
 * sync (the directory does not own it). Deleted accounts have nothing left to suspend: refused (R15).
 */
const suspendSignIns = (command: SuspendSignIns, user: ExistingUser): UserEvent[] => {
  const { data, metadata } = command;
  requireNotDeleted(user);
  if (data.origin !== 'hr') {
    throw new ValidationError('B2.invalid-origin', 'B2', 'Sign-ins are suspended by an HR trigger.');
  }
  const reason = requireSuspensionReason(data.reason);
  if (user.source === 'synced' && !data.tenantPolicy.fastPathOffboarding) {
    throw new RuleViolationError(
      'B2',
      'fast-path-off',
      'This tenant has not opted in to fast-path offboarding: a synced user stops signing in when directory sync brings the change (R8).',
    );
  }
  if (user.signInsSuspended) return [];
  return [
    {
      type: 'UserSignInsSuspended',
      data: { userId: user.userId, origin: data.origin, reason, suspendedAt: metadata.now.toISOString() },
    },
  ];
};

const resumeSignIns = (command: ResumeSignIns, user: ExistingUser): UserEvent[] => {
  requireNotDeleted(user);
  if (command.data.origin !== 'admin') {
    throw new ValidationError('B2.invalid-origin', 'B2', 'Only an admin resumes suspended sign-ins.');
  }
  if (!user.signInsSuspended) return [];
  return [
    {
      type: 'UserSignInsResumed',
      data: { userId: user.userId, origin: 'admin', resumedAt: command.metadata.now.toISOString() },
    },
  ];
};

const createAppPassword = (command: CreateAppPassword, user: ExistingUser): UserEvent[] => {
  const { data, metadata } = command;
  const policy = data.tenantPolicy;
  requireActive(user);
  if (user.signInsSuspended) {
    // It could not sign in anyway: say so now rather than hand out a secret that never works.
    throw new RuleViolationError('B2', 'sign-ins-suspended', "This account's sign-ins are suspended.");
  }
  if (!policy.appPasswordsAllowed) {
    throw new RuleViolationError(
      'R10',
      'app-passwords-not-allowed',
      'This tenant does not allow users to create app passwords.',
    );
  }
  if (user.requiresModernAuth) {
    throw new RuleViolationError(
      'R14',
      'modern-auth-required',
      'This account must use modern authentication, where app passwords do not work.',
    );
  }
  if (user.mfa === 'disabled') {
    throw new RuleViolationError('R1', 'mfa-not-enabled', 'App passwords are only for accounts with MFA on.');
  }
  if (!user.mfaRegistered) {
    throw new RuleViolationError(
      'R1',
      'mfa-not-registered',
      'Complete MFA registration before creating an app password.',
    );
  }
  const appPasswordId = requireUuid('appPasswordId', data.appPasswordId);
  const name = validateAppPasswordName(data.name);
  const protocols = normaliseProtocolScope(data.protocols);
  const verifier = validateVerifier(data.verifier);
  if (user.appPasswords[appPasswordId] !== undefined) {
    throw new ConflictError('app-password.already-exists', undefined, 'This app password id is taken.');
  }
  const live = liveAppPasswords(user, metadata.now);
  const limit = appPasswordLimit(policy);
  if (live.length >= limit) {
    throw new RuleViolationError('R3', 'limit-reached', `A user may hold at most ${limit} app passwords.`);
  }
  const key = appPasswordNameKey(name);
  if (live.some((existing) => appPasswordNameKey(existing.name) === key)) {
    throw new ConflictError('R6.name-taken', 'R6', 'Another of your app passwords already has this name.');
  }
  const createdAt = metadata.now.toISOString();
  const expiresAt =
    policy.maxLifetimeDays === null
      ? null
      : new Date(metadata.now.getTime() + policy.maxLifetimeDays * DAY_MS).toISOString();
  return [
    {
      type: 'AppPasswordCreated',
      data: { userId: user.userId, appPasswordId, name, protocols, createdAt, expiresAt, verifier },
    },
  ];
};

const deleteAppPassword = (command: DeleteAppPassword, user: ExistingUser): UserEvent[] => {
  const { data, metadata } = command;
  requireNotDeleted(user);
  if (data.by === 'user') {
    requireActive(user);
    if (!data.tenantPolicy.appPasswordsAllowed) {
      throw new RuleViolationError(
        'R12',
        'users-cannot-manage',
        'While this tenant forbids app passwords, only an admin can delete them.',
      );
    }
  } else if (data.by !== 'admin') {
    throw new ValidationError(
      'app-password.invalid-actor',
      undefined,
      'An app password is deleted by its user or an admin.',
    );
  }
  const appPassword = user.appPasswords[data.appPasswordId];
  if (appPassword === undefined) {
    throw new NotFoundError('app-password.not-found', 'There is no such app password.');
  }
  if (appPassword.status === 'revoked') return [];
  return [
    {
      type: 'AppPasswordRevoked',
      data: {
        userId: user.userId,
        appPasswordId: appPassword.appPasswordId,
        reason: data.by === 'user' ? 'user-deleted-it' : 'admin-deleted-it',
        revokedAt: metadata.now.toISOString(),
      },
    },
  ];
};

const completeMfaRegistration = (command: CompleteMfaRegistration, user: ExistingUser): UserEvent[] => {
  requireActive(user);
  if (user.mfaRegistered) return [];
  return [
    {
      type: 'MfaRegistrationCompleted',
      data: {
        userId: user.userId,
        completedAt: command.metadata.now.toISOString(),
        appPasswordPromptOffered: shouldPromptForAppPassword(command.data.tenantPolicy, user),
      },
    },
  ];
};

const resetPassword = (command: ResetPassword, user: ExistingUser): UserEvent[] => {
  requireNotDeleted(user);
  const { origin, pwdLastSet } = command.data;
  requireOrigin(user.source, origin);
  if (pwdLastSet !== undefined && adLargeInteger(pwdLastSet) !== pwdLastSet) {
    throw new ValidationError('user.invalid-pwd-last-set', undefined, "pwdLastSet is AD's 64-bit integer.");
  }
  // A propagation that runs again (its job retried) must not revoke what was created since.
  if (pwdLastSet !== undefined && pwdLastSet === user.pwdLastSet) return [];
  const resetAt = command.metadata.now.toISOString();
  const data = { userId: user.userId, origin, resetAt, ...(pwdLastSet === undefined ? {} : { pwdLastSet }) };
  // R5: Entra keeps app passwords across a reset; B6 lets a tenant opt in to revoking them.
  return [
    { type: 'UserPasswordReset', data },
    ...(command.data.tenantPolicy.revokeOnPasswordReset ? revokeAll(user, 'password-reset', resetAt) : []),
  ];
};

export const decideUser = (command: UserCommand, state: UserState): UserEvent[] => {
  if (command.type === 'ProvisionUser') return provision(command, state);
  const user = requireUser(state, command.data);
  const now = command.metadata.now.toISOString();
  const userId = user.userId;
  switch (command.type) {
    case 'DisableUser':
      requireNotDeleted(user);
      requireOrigin(user.source, command.data.origin);
      if (user.status === 'disabled') return [];
      return [{ type: 'UserDisabled', data: { userId, origin: command.data.origin, disabledAt: now } }];
    case 'EnableUser':
      requireNotDeleted(user);
      requireOrigin(user.source, command.data.origin);
      if (user.status === 'active') return [];
      return [{ type: 'UserEnabled', data: { userId, origin: command.data.origin, enabledAt: now } }];
    case 'DeleteUser':
      requireOrigin(user.source, command.data.origin);
      if (user.status === 'deleted') return [];
      // R15: a deleted account's app passwords are deleted for good, in the same decision.
      return [
        ...revokeAll(user, 'account-deleted', now),
        { type: 'UserDeleted', data: { userId, origin: command.data.origin, deletedAt: now } },
      ];
    case 'RenameUser':
      return rename(command, user);
    case 'SuspendSignIns':
      return suspendSignIns(command, user);
    case 'ResumeSignIns':
      return resumeSignIns(command, user);
    case 'SetMfaState':
      requireNotDeleted(user);
      if (!MFA_STATES.includes(command.data.mfa)) {
        throw new ValidationError(
          'user.invalid-mfa-state',
          undefined,
          `MFA is one of: ${MFA_STATES.join(', ')}.`,
        );
      }
      if (user.mfa === command.data.mfa) return [];
      return [{ type: 'UserMfaStateChanged', data: { userId, mfa: command.data.mfa, changedAt: now } }];
    case 'CompleteMfaRegistration':
      return completeMfaRegistration(command, user);
    case 'SetModernAuthRequirement': {
      requireNotDeleted(user);
      const requiresModernAuth = command.data.requiresModernAuth;
      if (typeof requiresModernAuth !== 'boolean') {
        throw new ValidationError(
          'user.invalid-modern-auth',
          undefined,
          'requiresModernAuth is true or false.',
        );
      }
      if (user.requiresModernAuth === requiresModernAuth) return [];
      return [
        { type: 'UserModernAuthRequirementChanged', data: { userId, requiresModernAuth, changedAt: now } },
      ];
    }
    case 'ResetPassword':
      return resetPassword(command, user);
    case 'CreateAppPassword':
      return createAppPassword(command, user);
    case 'DeleteAppPassword':
      return deleteAppPassword(command, user);
    case 'DeleteAllAppPasswords':
      requireNotDeleted(user);
      // R16: one step for all of them.
      return revokeAll(user, 'admin-deleted-all', now);
    case 'RevokeLeakedAppPassword': {
      // B12: answered the same whatever state the app password is in, and never refused for a
      // deleted account: the report is unauthenticated, and a revoked secret is harmless.
      const leakReportId = requireUuid('leakReportId', command.data.leakReportId);
      const appPassword = user.appPasswords[command.data.appPasswordId];
      if (appPassword === undefined) {
        throw new NotFoundError('app-password.not-found', 'There is no such app password.');
      }
      if (appPassword.status === 'revoked') return [];
      return [
        {
          type: 'AppPasswordRevoked',
          data: {
            userId,
            appPasswordId: appPassword.appPasswordId,
            reason: 'leak-reported',
            revokedAt: now,
            leakReportId,
          },
        },
      ];
    }
  }
};

export const userDecider: Decider<UserCommand, UserState, UserEvent> = {
  decide: decideUser,
  evolve: evolveUser,
  initialState: initialUserState,
};
