import { LegacyProtocol } from './legacy-protocol';
import type { TenantPolicy } from './tenant-policy';
import {
  AppPasswordRevocationReason,
  LifecycleOrigin,
  MfaState,
  UserEvent,
  UserRole,
  UserSource,
  UserStatus,
} from './user.events';
import { Verifier } from './verifier';

/** An app password inside the user aggregate. Last use is a read-model concern, not stored here. */
export interface AppPasswordState {
  appPasswordId: string;
  name: string;
  protocols: LegacyProtocol[] | null;
  createdAt: string;
  expiresAt: string | null;
  verifier: Verifier;
  status: 'active' | 'revoked';
  revokedAt: string | null;
  revokedReason: AppPasswordRevocationReason | null;
}

export interface ExistingUser {
  status: UserStatus;
  userId: string;
  tenantId: string;
  username: string;
  source: UserSource;
  roles: UserRole[];
  mfa: MfaState;
  mfaRegistered: boolean;
  requiresModernAuth: boolean;
  lastLifecycleOrigin: LifecycleOrigin;
  passwordResetAt: string | null;
  /** The on-premises pwdLastSet of the last reset directory sync carried, if any. */
  pwdLastSet?: string;
  /** B2: app passwords refused at verification until an admin resumes sign-ins. */
  signInsSuspended: boolean;
  /** By appPasswordId, in creation order. Revoked ones stay, for history. */
  appPasswords: Record<string, AppPasswordState>;
}

export type UserState = { status: 'absent' } | ExistingUser;

export const initialUserState = (): UserState => ({ status: 'absent' });

const withAppPassword = (
  state: ExistingUser,
  appPasswordId: string,
  change: (appPassword: AppPasswordState) => AppPasswordState,
): ExistingUser => {
  const current = state.appPasswords[appPasswordId];
  if (current === undefined) return state;
  return { ...state, appPasswords: { ...state.appPasswords, [appPasswordId]: change(current) } };
};

export const evolveUser = (state: UserState, event: UserEvent): UserState => {
  if (event.type === 'UserProvisioned') {
    const { provisionedAt: _at, origin, ...user } = event.data;
    return {
      ...user,
      status: 'active',
      roles: [...user.roles],
      mfaRegistered: false,
      lastLifecycleOrigin: origin,
      passwordResetAt: null,
      signInsSuspended: false,
      appPasswords: {},
    };
  }
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'UserDisabled':
      return { ...state, status: 'disabled', lastLifecycleOrigin: event.data.origin };
    case 'UserEnabled':
      return { ...state, status: 'active', lastLifecycleOrigin: event.data.origin };
    case 'UserDeleted':
      return { ...state, status: 'deleted', lastLifecycleOrigin: event.data.origin };
    case 'UserRenamed':
      return { ...state, username: event.data.username };
    case 'UserSignInsSuspended':
      return { ...state, signInsSuspended: true };
    case 'UserSignInsResumed':
      return { ...state, signInsSuspended: false };
    case 'UserMfaStateChanged':
      return { ...state, mfa: event.data.mfa };
    case 'MfaRegistrationCompleted':
      return { ...state, mfaRegistered: true };
    case 'UserModernAuthRequirementChanged':
      return { ...state, requiresModernAuth: event.data.requiresModernAuth };
    case 'UserPasswordReset': {
      const { resetAt, pwdLastSet } = event.data;
      return { ...state, passwordResetAt: resetAt, ...(pwdLastSet === undefined ? {} : { pwdLastSet }) };
    }
    case 'AppPasswordCreated': {
      const { userId: _userId, protocols, ...appPassword } = event.data;
      return {
        ...state,
        appPasswords: {
          ...state.appPasswords,
          [appPassword.appPasswordId]: {
            ...appPassword,
            protocols: protocols === null ? null : [...protocols],
            verifier: { ...appPassword.verifier },
            status: 'active',
            revokedAt: null,
            revokedReason: null,
          },
        },
      };
    }
    case 'AppPasswordRevoked':
      return withAppPassword(state, event.data.appPasswordId, (appPassword) => ({
        ...appPassword,
        status: 'revoked',
        revokedAt: event.data.revokedAt,
        revokedReason: event.data.reason,
      }));
  }
};

export const DAY_MS = 86_400_000;

/** What of the tenant's policy bears on when an app password stops working (B7). */
export type LifetimePolicy = Pick<TenantPolicy, 'maxLifetimeDays'>;

/**
 * B7: the instant an app password stops working, or null for never. It is the sooner of the expiry
 * stamped at creation and its creation plus the tenant's maximum lifetime as it is now: a lowered
 * maximum reaches app passwords that already exist (an admin who shortens it after a scare means
 * it for all of them), and raising it again restores them, but never past their own expiry, which
 * is what their owners were told.
 */
export const expiryOf = (
  appPassword: Pick<AppPasswordState, 'createdAt' | 'expiresAt'>,
  policy: LifetimePolicy,
): string | null => {
  const expiry = expiryMs(appPassword, policy);
  if (expiry === null) return null;
  // Its own expiry as it was stamped; the cap as a new instant.
  return appPassword.expiresAt !== null && expiry === Date.parse(appPassword.expiresAt)
    ? appPassword.expiresAt
    : new Date(expiry).toISOString();
};

/** expiryOf in epoch milliseconds: what verification compares, on every sign-in, without a string. */
const expiryMs = (
  appPassword: Pick<AppPasswordState, 'createdAt' | 'expiresAt'>,
  policy: LifetimePolicy,
): number | null => {
  const own = appPassword.expiresAt === null ? null : Date.parse(appPassword.expiresAt);
  if (policy.maxLifetimeDays === null) return own;
  const capped = Date.parse(appPassword.createdAt) + policy.maxLifetimeDays * DAY_MS;
  return own === null ? capped : Math.min(own, capped);
};

/** B7: expired from its expiry instant on (see expiryOf). */
export const isExpired = (
  appPassword: Pick<AppPasswordState, 'createdAt' | 'expiresAt'>,
  policy: LifetimePolicy,
  now: Date,
): boolean => {
  const expiry = expiryMs(appPassword, policy);
  return expiry !== null && now.getTime() >= expiry;
};

/** Its own expiry alone, whatever the tenant's maximum is now (see isLive). */
const OWN_EXPIRY_ONLY: LifetimePolicy = { maxLifetimeDays: null };

/**
 * Live: not revoked and not past its own expiry. R3's limit and R6's unique names count live app
 * passwords only, so one past its own expiry neither blocks a new one nor keeps its name. One cut
 * short by a lowered tenant maximum (expiryOf) does not sign in, but still counts and keeps its name
 * until it is deleted or reaches its own expiry: raising the maximum brings it back, and then the
 * user must still hold at most the limit, each name once.
 */
export const isLive = (appPassword: AppPasswordState, now: Date): boolean =>
  appPassword.status === 'active' && !isExpired(appPassword, OWN_EXPIRY_ONLY, now);

export const liveAppPasswords = (state: ExistingUser, now: Date): AppPasswordState[] =>
  Object.values(state.appPasswords).filter((appPassword) => isLive(appPassword, now));

/** Not yet revoked (expired ones included): what a revocation sweep revokes. */
export const activeAppPasswords = (state: ExistingUser): AppPasswordState[] =>
  Object.values(state.appPasswords).filter((appPassword) => appPassword.status === 'active');
