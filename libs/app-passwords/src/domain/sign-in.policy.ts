import { RuleId } from './domain-error';
import {
  isAdministrativeProtocol,
  LegacyProtocol,
  parseLegacyProtocol,
  scopeAllows,
} from './legacy-protocol';
import { LockStatus } from './smart-lockout.policy';
import { TenantPolicy } from './tenant-policy';
import { AppPasswordState, ExistingUser, isExpired } from './user.state';

/**
 * Why a legacy sign-in was refused: stable codes for the gateway's log and the audit trail. The end
 * user is told only that the sign-in failed, whichever it was.
 */
export const SIGN_IN_REFUSALS = {
  'administrative-action': 'R4',
  'account-locked': 'B8',
  'invalid-credentials': undefined,
  'legacy-auth-blocked': 'R13',
  'modern-auth-required': 'R14',
  'account-disabled': 'R15',
  'account-suspended': 'B2',
  'mfa-not-enabled': 'R1',
  'app-password-expired': 'B7',
  'protocol-not-allowed': 'B11',
} as const satisfies Record<string, RuleId | undefined>;

export type SignInRefusal = keyof typeof SIGN_IN_REFUSALS;

export type SignInDecision =
  | { allowed: true; protocol: LegacyProtocol }
  | {
      allowed: false;
      reason: SignInRefusal;
      rule: RuleId | undefined;
      /** Only a wrong password (or unknown user) feeds smart lockout. */
      countsAsLockoutFailure: boolean;
    };

/** `administrative` is any management action (admin API, remote PowerShell): never by app password. */
export type SignInAction = 'sign-in' | 'administrative';

export interface SignInAttempt {
  now: Date;
  /** As the gateway names it; case-insensitive. */
  protocol: string;
  action?: SignInAction;
  /**
   * The user's app password whose verifier matched the presented password, or undefined when none did
   * (or the username is unknown: the application hashes anyway so both take the same time).
   */
  credential: Pick<AppPasswordState, 'status' | 'createdAt' | 'expiresAt' | 'protocols'> | undefined;
  user: Pick<ExistingUser, 'status' | 'mfa' | 'requiresModernAuth' | 'signInsSuspended'> | undefined;
  tenantPolicy: Pick<TenantPolicy, 'legacyAuthBlocked' | 'maxLifetimeDays'> | undefined;
  /** B8: the lock status of this username from this client, from smart-lockout.policy. */
  lockout: LockStatus;
}

const refuse = (reason: SignInRefusal): SignInDecision => ({
  allowed: false,
  reason,
  rule: SIGN_IN_REFUSALS[reason],
  countsAsLockoutFailure: reason === 'invalid-credentials',
});

/**
 * The heart of verification. Order of precedence, and why:
 * 1. R4 administrative action: depends on the request alone, refused even for an admin's account.
 * 2. B8 account locked: before the password is looked at, so a locked account answers the same
 *    whether the password is right or not (no probing through a lock), and for unknown usernames too.
 * 3. invalid-credentials: unknown user, wrong or revoked password — one answer, never which.
 * 4. From here the caller has proved they hold a real app password, so account facts may show:
 *    R13 legacy auth blocked by the tenant, R14 modern auth required, R15 disabled or deleted,
 *    B2 sign-ins suspended by the HR fast path, R1 MFA not on, B7 expired, B11 protocol outside the app
 *    password's scope.
 * Tenant and account facts come after the credential check on purpose: answering "legacy auth blocked"
 * or "disabled" to a wrong password would tell a prober that the username exists.
 */
export const decideSignIn = (attempt: SignInAttempt): SignInDecision => {
  if (attempt.action === 'administrative' || isAdministrativeProtocol(attempt.protocol)) {
    return refuse('administrative-action');
  }
  if (attempt.lockout.locked) return refuse('account-locked');
  const { credential, user, tenantPolicy } = attempt;
  if (
    credential === undefined ||
    credential.status !== 'active' ||
    user === undefined ||
    tenantPolicy === undefined
  ) {
    return refuse('invalid-credentials');
  }
  if (tenantPolicy.legacyAuthBlocked) return refuse('legacy-auth-blocked');
  if (user.requiresModernAuth) return refuse('modern-auth-required');
  if (user.status !== 'active') return refuse('account-disabled');
  if (user.signInsSuspended) return refuse('account-suspended');
  if (user.mfa === 'disabled') return refuse('mfa-not-enabled');
  if (isExpired(credential, tenantPolicy, attempt.now)) return refuse('app-password-expired');
  const protocol = parseLegacyProtocol(attempt.protocol);
  if (protocol === undefined || !scopeAllows(credential.protocols, protocol))
    return refuse('protocol-not-allowed');
  return { allowed: true, protocol };
};
