import {
  DEFAULT_TENANT_POLICY,
  initialLockoutState,
  lockStatus,
  registerFailedSignIn,
  registerSuccessfulSignIn,
  SIGN_IN_EVENT_TYPES,
  type LockoutState,
  type LockStatus,
  type TenantPolicy,
} from '@latchkey/app-passwords';
import { refOf, type EventRef, type HistoricalEvent } from './history';

/** What a recorded sign-in attempt (LegacySignInSucceeded / LegacySignInFailed) carries. */
interface AttemptData {
  username: string;
  clientIp: string;
  action: string;
  reason: string | null;
}

/** What the sign-in check says about smart lockout (B8) at the instant. */
export interface LockoutAt {
  /** False when no client IP was given: lockout is per client network, so it was not considered. */
  considered: boolean;
  status: LockStatus;
  /** Recorded attempts under this username before the instant, replayed in order. */
  attemptsReplayed: number;
  /** The attempt whose failure started the lock in force, if one is. */
  lockedBy: EventRef | null;
  /**
   * Recorded attempts whose outcome the replay does not reproduce (refused as locked where the
   * replay was not locked, or checked where it was): where they exist the reconstruction is not exact.
   */
  contradictions: { attempt: EventRef; recorded: string; replayed: 'locked' | 'not locked' }[];
  /** What the answer takes for granted; see lockoutAt. */
  assumptions: string[];
}

export const LOCKOUT_ASSUMPTIONS = [
  'Each recorded wrong password counts as a distinct one: attempts do not record the password fingerprint, so a device retrying the same stale password (counted once at the time) counts each time here, and the replay may lock earlier than verification did; a later recorded attempt then shows it as a contradiction.',
  'Attempts are replayed in the order of their instants (then their position); concurrent attempts may have updated the lock in another order.',
  'Attempts recorded at exactly the instant asked about are not counted: the question is asked as if it came first at that instant.',
];

const NOT_CONSIDERED = [
  'No client IP was given: lockout is kept per client network (B8), so it was not considered; the answer is the one for a client that is not locked.',
];

/**
 * B8 at an instant, rebuilt from the recorded attempts: verification's own lockout functions
 * (registerFailedSignIn for an `invalid-credentials` failure, registerSuccessfulSignIn for a
 * success) applied to the attempts recorded under the username before `at`, with the lockout
 * settings the tenant's policy had at each attempt (`policyAt`), then lockStatus for `clientIp`.
 * Verification keys lockout by username, not by user: `attempts` must be those of the username the
 * question is about, whoever held it.
 */
export function lockoutAt(input: {
  attempts: readonly HistoricalEvent[];
  clientIp: string | undefined;
  at: Date;
  policyAt: (instant: Date) => TenantPolicy | undefined;
}): LockoutAt {
  const { clientIp, at } = input;
  if (clientIp === undefined) {
    return {
      considered: false,
      status: { locked: false },
      attemptsReplayed: 0,
      lockedBy: null,
      contradictions: [],
      assumptions: NOT_CONSIDERED,
    };
  }
  const attempts = input.attempts
    .filter((event) => Object.values<string>(SIGN_IN_EVENT_TYPES).includes(event.type))
    .filter((event) => event.occurredAt.getTime() < at.getTime())
    .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || compareSeq(a.seq, b.seq));

  let state: LockoutState = initialLockoutState();
  let lockedBy: { ref: EventRef; until: number } | null = null;
  const contradictions: LockoutAt['contradictions'] = [];
  for (const event of attempts) {
    const data = event.data as AttemptData;
    const now = event.occurredAt;
    // Verification decides R4 before lockout: such an attempt says nothing about the lock.
    if (data.reason !== 'administrative-action') {
      const replayedLocked = lockStatus(state, data.clientIp, now).locked;
      const recordedLocked = data.reason === 'account-locked';
      if (replayedLocked !== recordedLocked) {
        contradictions.push({
          attempt: refOf(event),
          recorded: data.reason ?? 'allowed',
          replayed: replayedLocked ? 'locked' : 'not locked',
        });
      }
    }
    // As verification: settings from the policy at the time, the defaults for a tenant it lacks.
    const settings = (input.policyAt(now) ?? DEFAULT_TENANT_POLICY).lockout;
    if (event.type === SIGN_IN_EVENT_TYPES.allowed) {
      state = registerSuccessfulSignIn(state, { clientIp: data.clientIp, now }, settings);
    } else if (data.reason === 'invalid-credentials') {
      const before = lockStatus(state, clientIp, now);
      state = registerFailedSignIn(
        state,
        { clientIp: data.clientIp, passwordFingerprint: `attempt-${event.seq}`, now },
        settings,
      );
      const after = lockStatus(state, clientIp, now);
      if (after.locked && (!before.locked || before.until.getTime() !== after.until.getTime())) {
        lockedBy = { ref: refOf(event), until: after.until.getTime() };
      }
    }
  }
  const status = lockStatus(state, clientIp, at);
  return {
    considered: true,
    status,
    attemptsReplayed: attempts.length,
    lockedBy: status.locked && lockedBy?.until === status.until.getTime() ? lockedBy.ref : null,
    contradictions,
    assumptions: LOCKOUT_ASSUMPTIONS,
  };
}

const compareSeq = (a: string, b: string): number => {
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};
