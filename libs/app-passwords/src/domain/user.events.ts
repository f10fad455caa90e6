import { LegacyProtocol } from './legacy-protocol';
import { Verifier } from './verifier';

export type UserSource = 'cloud' | 'synced';
export type UserStatus = 'active' | 'disabled' | 'deleted';
export const MFA_STATES: readonly MfaState[] = ['disabled', 'enabled', 'enforced'];
export type MfaState = 'disabled' | 'enabled' | 'enforced';
export const USER_ROLES = ['user', 'tenant-admin', 'hr', 'auditor'] as const;
export type UserRole = (typeof USER_ROLES)[number];
/** Who asked for a lifecycle change. A synced user's lifecycle belongs to the directory. */
export type LifecycleOrigin = 'admin' | 'hr' | 'directory-sync';
/** B2: only an HR trigger suspends sign-ins; only an admin lifts a suspension. */
export type SuspensionOrigin = Extract<LifecycleOrigin, 'hr'>;
export type ResumptionOrigin = Extract<LifecycleOrigin, 'admin'>;

export type AppPasswordRevocationReason =
  | 'user-deleted-it'
  | 'admin-deleted-it'
  /** R16. */
  | 'admin-deleted-all'
  /** B6. */
  | 'password-reset'
  /** R15. */
  | 'account-deleted'
  /** B12. */
  | 'leak-reported';

/**
 * Events of a user stream (`user-<uuid>`): the user and their app passwords, so that R3's limit and
 * R6's unique names are decided in one aggregate. Type strings are stored and must never change.
 */
export type UserProvisioned = {
  type: 'UserProvisioned';
  data: {
    userId: string;
    tenantId: string;
    username: string;
    source: UserSource;
    roles: UserRole[];
    mfa: MfaState;
    requiresModernAuth: boolean;
    origin: LifecycleOrigin;
    provisionedAt: string;
  };
};

export type UserDisabled = {
  type: 'UserDisabled';
  data: { userId: string; origin: LifecycleOrigin; disabledAt: string };
};

export type UserEnabled = {
  type: 'UserEnabled';
  data: { userId: string; origin: LifecycleOrigin; enabledAt: string };
};

/** R15: emitted after an AppPasswordRevoked (reason `account-deleted`) for each app password. */
export type UserDeleted = {
  type: 'UserDeleted';
  data: { userId: string; origin: LifecycleOrigin; deletedAt: string };
};

/**
 * The UPN changed (for a synced user, on premises: "a rename follows the UPN"). Verification looks
 * users up by username, so from here on only the new name signs in.
 */
export type UserRenamed = {
  type: 'UserRenamed';
  data: {
    userId: string;
    /** Normalised, as in UserProvisioned. */
    username: string;
    previousUsername: string;
    origin: LifecycleOrigin;
    renamedAt: string;
  };
};

/**
 * B2: every app password of the user stops verifying at once, none is deleted. Independent of the
 * account's status: the directory sync still disables or deletes the account when its change lands.
 */
export type UserSignInsSuspended = {
  type: 'UserSignInsSuspended';
  data: { userId: string; origin: SuspensionOrigin; reason: string; suspendedAt: string };
};

/** B2: an admin lifts a suspension; the app passwords work again if nothing else refuses them. */
export type UserSignInsResumed = {
  type: 'UserSignInsResumed';
  data: { userId: string; origin: ResumptionOrigin; resumedAt: string };
};

export type UserMfaStateChanged = {
  type: 'UserMfaStateChanged';
  data: { userId: string; mfa: MfaState; changedAt: string };
};

export type MfaRegistrationCompleted = {
  type: 'MfaRegistrationCompleted';
  data: {
    userId: string;
    completedAt: string;
    /** R11: whether the user was asked to create an app password at the end of registration. */
    appPasswordPromptOffered: boolean;
  };
};

export type UserModernAuthRequirementChanged = {
  type: 'UserModernAuthRequirementChanged';
  data: { userId: string; requiresModernAuth: boolean; changedAt: string };
};

/** R5: app passwords survive a reset unless the tenant opted in to B6 (then revocations follow). */
export type UserPasswordReset = {
  type: 'UserPasswordReset';
  /** pwdLastSet: a reset on premises that directory sync carried, AD's pwdLastSet after it. */
  data: { userId: string; origin: LifecycleOrigin; resetAt: string; pwdLastSet?: string };
};

export type AppPasswordCreated = {
  type: 'AppPasswordCreated';
  data: {
    userId: string;
    appPasswordId: string;
    name: string;
    /** B11: null means every legacy protocol. */
    protocols: LegacyProtocol[] | null;
    createdAt: string;
    /** B7: null when the tenant sets no maximum lifetime. */
    expiresAt: string | null;
    /** Secret-derived: kept in PostgreSQL, stripped before publication (toPublishableEvent). */
    verifier: Verifier;
  };
};

export type AppPasswordRevoked = {
  type: 'AppPasswordRevoked';
  data: {
    userId: string;
    appPasswordId: string;
    reason: AppPasswordRevocationReason;
    revokedAt: string;
    /** B12: the report that revealed the leak (the report itself is recorded by the application). */
    leakReportId?: string;
  };
};

export type UserEvent =
  | UserProvisioned
  | UserDisabled
  | UserEnabled
  | UserDeleted
  | UserRenamed
  | UserSignInsSuspended
  | UserSignInsResumed
  | UserMfaStateChanged
  | MfaRegistrationCompleted
  | UserModernAuthRequirementChanged
  | UserPasswordReset
  | AppPasswordCreated
  | AppPasswordRevoked;

export const USER_EVENT_SCHEMA_VERSIONS: Readonly<Record<UserEvent['type'], number>> = Object.freeze({
  UserProvisioned: 1,
  UserDisabled: 1,
  UserEnabled: 1,
  UserDeleted: 1,
  UserRenamed: 1,
  UserSignInsSuspended: 1,
  UserSignInsResumed: 1,
  UserMfaStateChanged: 1,
  MfaRegistrationCompleted: 1,
  UserModernAuthRequirementChanged: 1,
  UserPasswordReset: 1,
  AppPasswordCreated: 1,
  AppPasswordRevoked: 1,
});
