import {
  decideSignIn,
  type ExistingUser,
  type RuleId,
  type SignInRefusal,
  type TenantPolicy,
  type TenantState,
} from '@latchkey/app-passwords';
import type { EventRef, HistoricalEvent } from './history';
import { lockoutAt, type LockoutAt } from './lockout-at';
import { foldAt, tenantAt, type AppPasswordAt, type PointInTimeState, type SubjectHistory } from './state-at';

export interface SignInCheckQuestion {
  appPasswordId: string;
  at: Date;
  /** As a gateway names it (case-insensitive), administrative ones included (R4). */
  protocol: string;
  /** B8 is kept per client network: without it lockout is not considered. */
  clientIp?: string;
}

export interface SignInCheck {
  at: string;
  appPasswordId: string;
  protocol: string;
  clientIp: string | null;
  allowed: boolean;
  /** Verification's own reason code and rule (decideSignIn), null when allowed. */
  reason: SignInRefusal | null;
  rule: RuleId | null;
  /** The events that decided it: for a refusal, what refused; when allowed, every fact checked. */
  because: EventRef[];
  /** What the history says beyond the reason code (an app password not created yet, say). */
  notes: string[];
  appPassword: AppPasswordAt | null;
  user: PointInTimeState['user'];
  tenant: PointInTimeState['tenant'];
  lockout: LockoutAt;
  recordedAfter: EventRef[];
  outOfOrder: EventRef[];
}

/**
 * B4: could app password X have signed in at T over protocol P, and if not, why not?
 *
 * The user's and tenant's states at T (folded with the domain's evolve) go to decideSignIn exactly as
 * verification's one lookup hands them over: the rules, their order and their reason codes are
 * verification's own. What the lookup would have found is mirrored here: an account is found only
 * while not deleted, an app password only as one of that account's, a tenant's policy only once the
 * tenant exists; anything missing is `invalid-credentials`, as it was for the gateway. The presented
 * password is taken to be X's own: the question is about X, not about a guess.
 *
 * `attempts`: the recorded sign-in attempts under the user's username at T (needed only with a
 * client IP), from which smart lockout is rebuilt (lockout-at.ts).
 */
export function signInCheckAt(
  history: SubjectHistory,
  attempts: readonly HistoricalEvent[],
  question: SignInCheckQuestion,
): SignInCheck {
  const { at, appPasswordId, protocol, clientIp } = question;
  const folded = foldAt(history, at);
  const { view } = folded;
  const account: ExistingUser | undefined =
    folded.user.status === 'absent' || folded.user.status === 'deleted' ? undefined : folded.user;
  const credential = account?.appPasswords[appPasswordId];
  const policy = policyOf(folded.tenant);
  const lockout = lockoutAt({
    attempts,
    clientIp,
    at,
    policyAt: (instant) => policyOf(tenantAt(history.tenantEvents, instant)),
  });

  const decision = decideSignIn({
    now: at,
    protocol,
    action: 'sign-in',
    lockout: lockout.status,
    credential,
    user: account,
    tenantPolicy: policy,
  });

  const user = view.user.status === 'absent' ? undefined : view.user;
  const tenant = view.tenant.status === 'absent' ? undefined : view.tenant;
  const appPassword =
    view.appPasswords.find((candidate) => candidate.appPasswordId === appPasswordId) ?? null;
  const creation = appPassword?.because.find((ref) => ref.type === 'AppPasswordCreated');
  const revocation = appPassword?.because.find((ref) => ref.type === 'AppPasswordRevoked');
  const cite = (...refs: (EventRef | undefined | null)[]) => dedupe(refs);
  const notes: string[] = [];

  let because: EventRef[];
  if (decision.allowed) {
    because = cite(
      creation,
      tenant?.because.legacyAuthBlocked,
      user?.because.requiresModernAuth,
      user?.because.status,
      user?.because.signInsSuspended,
      user?.because.mfa,
    );
  } else {
    switch (decision.reason) {
      case 'administrative-action':
        because = [];
        notes.push('R4: an app password never authorizes an administrative action, whatever the history.');
        break;
      case 'account-locked':
        because = cite(lockout.lockedBy);
        break;
      case 'invalid-credentials':
        because = cite(user?.status === 'deleted' ? user.because.status : null, revocation);
        if (!tenant) notes.push('The tenant did not exist yet.');
        else if (!user) notes.push('The user did not exist yet.');
        else if (user.status === 'deleted') notes.push('The account was deleted (R15).');
        else if (!appPassword) notes.push('The app password did not exist yet.');
        else if (appPassword.status === 'revoked') {
          notes.push(
            `The app password was revoked (${appPassword.revokedReason}) at ${appPassword.revokedAt}.`,
          );
        }
        break;
      case 'legacy-auth-blocked':
        because = cite(tenant?.because.legacyAuthBlocked);
        break;
      case 'modern-auth-required':
        because = cite(user?.because.requiresModernAuth);
        break;
      case 'account-disabled':
        because = cite(user?.because.status);
        break;
      case 'account-suspended':
        because = cite(user?.because.signInsSuspended);
        break;
      case 'mfa-not-enabled':
        because = cite(user?.because.mfa);
        break;
      case 'app-password-expired': {
        // Its own expiry, or the tenant's maximum lifetime if that came sooner (expiryOf).
        const capped = credential?.expiresAt !== appPassword?.expiresAt;
        because = cite(creation, capped ? tenant?.because.maxLifetimeDays : null);
        notes.push(
          capped
            ? `It expired at ${appPassword?.expiresAt}: the tenant's maximum lifetime of ${tenant?.policy.maxLifetimeDays} days, counted from its creation (B7).`
            : `It expired at ${appPassword?.expiresAt} (B7).`,
        );
        break;
      }
      case 'protocol-not-allowed':
        because = cite(creation);
        notes.push(`It is scoped to ${appPassword?.protocols?.join(', ')} (B11).`);
        break;
    }
  }

  return {
    at: view.at,
    appPasswordId,
    protocol: protocol.trim().toUpperCase(),
    clientIp: clientIp ?? null,
    allowed: decision.allowed,
    reason: decision.allowed ? null : decision.reason,
    rule: decision.allowed ? null : (decision.rule ?? null),
    because,
    notes,
    appPassword,
    user: view.user,
    tenant: view.tenant,
    lockout,
    recordedAfter: view.recordedAfter,
    outOfOrder: view.outOfOrder,
  };
}

const policyOf = (tenant: TenantState): TenantPolicy | undefined =>
  tenant.status === 'created' ? tenant.policy : undefined;

const dedupe = (refs: (EventRef | undefined | null)[]): EventRef[] => {
  const seen = new Set<string>();
  return refs.filter((ref): ref is EventRef => {
    if (!ref || seen.has(ref.seq)) return false;
    seen.add(ref.seq);
    return true;
  });
};

/** The username whose recorded attempts hold B8's state at `at`: the user's name then. */
export const usernameAt = (history: SubjectHistory, at: Date): string | undefined => {
  const { user } = foldAt(history, at);
  return user.status === 'absent' ? undefined : user.username;
};
