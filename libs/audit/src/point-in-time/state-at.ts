import { isDeepStrictEqual } from 'node:util';
import {
  evolveTenant,
  evolveUser,
  initialTenantState,
  expiryOf,
  initialUserState,
  isExpired,
  isTenantEventType,
  isUserEventType,
  type TenantEvent,
  type TenantPolicy,
  type TenantState,
  type UserEvent,
  type UserState,
} from '@latchkey/app-passwords';
import { cutAt, refOf, type EventRef, type HistoricalEvent } from './history';

/** A user's stream (`user-<id>`) and their tenant's (`tenant-<id>`), whole: the cut is made here. */
export interface SubjectHistory {
  userEvents: readonly HistoricalEvent[];
  tenantEvents: readonly HistoricalEvent[];
}

/** The facts of a user that verification and the auditor care about, each with its source. */
const USER_FACTS = [
  'username',
  'source',
  'status',
  'roles',
  'mfa',
  'mfaRegistered',
  'requiresModernAuth',
  'signInsSuspended',
] as const;
export type UserFact = (typeof USER_FACTS)[number];

export type UserAt =
  | { status: 'absent' }
  | {
      status: 'active' | 'disabled' | 'deleted';
      userId: string;
      tenantId: string;
      username: string;
      source: 'cloud' | 'synced';
      roles: string[];
      mfa: 'disabled' | 'enabled' | 'enforced';
      mfaRegistered: boolean;
      requiresModernAuth: boolean;
      /** B2. */
      signInsSuspended: boolean;
      /** The event that last set each fact. */
      because: Record<UserFact, EventRef>;
    };

export interface AppPasswordAt {
  appPasswordId: string;
  name: string;
  /** B11: null means every legacy protocol. */
  protocols: string[] | null;
  createdAt: string;
  /**
   * B7: when it stops working under the tenant's policy at the instant asked about: its own expiry,
   * or sooner its creation plus the tenant's maximum lifetime as it stood then.
   */
  expiresAt: string | null;
  /** At the instant asked about: `expired` once its expiry instant has passed (B7), unless revoked. */
  status: 'active' | 'expired' | 'revoked';
  revokedAt: string | null;
  revokedReason: string | null;
  /** Its creation and, if revoked, its revocation. */
  because: EventRef[];
}

export type TenantAt =
  | { status: 'absent' }
  | {
      status: 'created';
      tenantId: string;
      name: string;
      policy: TenantPolicy;
      /** Per setting (`legacyAuthBlocked`, `lockout.threshold`…) and `name`: the event that set it. */
      because: Record<string, EventRef>;
    };

export interface PointInTimeState {
  at: string;
  user: UserAt;
  appPasswords: AppPasswordAt[];
  tenant: TenantAt;
  /** Applied, but recorded only after `at` (see history.ts, cutAt). */
  recordedAfter: EventRef[];
  /** Claim an instant at or before `at` but follow a later event in their stream: not applied. */
  outOfOrder: EventRef[];
}

/** The domain's own states at the instant, for the sign-in check to hand to decideSignIn. */
export interface FoldedAt {
  user: UserState;
  tenant: TenantState;
  view: PointInTimeState;
  /** The applied user events, for citing an app password's creation or revocation. */
  userEvents: HistoricalEvent[];
}

/**
 * Folds `events` with the domain's own evolve, noting for each fact the event after which its value
 * last changed (the first event sets them all).
 */
function foldTracked<State, Event>(
  events: readonly HistoricalEvent[],
  evolve: (state: State, event: Event) => State,
  initial: State,
  facts: (state: State) => Record<string, unknown>,
  accepts: (type: string) => boolean,
): { state: State; because: Record<string, EventRef> } {
  let state = initial;
  const because: Record<string, EventRef> = {};
  for (const event of events) {
    // Events of other contexts on these streams, if any ever appear, are not this fold's to apply.
    if (!accepts(event.type)) continue;
    const before = facts(state);
    state = evolve(state, { type: event.type, data: event.data } as Event);
    for (const [fact, value] of Object.entries(facts(state))) {
      if (!(fact in before) || !isDeepStrictEqual(before[fact], value)) because[fact] = refOf(event);
    }
  }
  return { state, because };
}

const userFacts = (state: UserState): Record<string, unknown> =>
  state.status === 'absent' ? {} : Object.fromEntries(USER_FACTS.map((fact) => [fact, state[fact]]));

const tenantFacts = (state: TenantState): Record<string, unknown> => {
  if (state.status === 'absent') return {};
  const { lockout, ...settings } = state.policy;
  return {
    name: state.name,
    ...settings,
    ...Object.fromEntries(Object.entries(lockout).map(([key, value]) => [`lockout.${key}`, value])),
  };
};

const appPasswordEvent = (event: HistoricalEvent): string | undefined =>
  event.type === 'AppPasswordCreated' || event.type === 'AppPasswordRevoked'
    ? (event.data as { appPasswordId?: string }).appPasswordId
    : undefined;

/** The tenant's state at `at` alone: smart lockout needs the policy at each replayed attempt. */
export const tenantAt = (tenantEvents: readonly HistoricalEvent[], at: Date): TenantState =>
  foldTracked<TenantState, TenantEvent>(
    cutAt(tenantEvents, at).applied,
    evolveTenant,
    initialTenantState(),
    () => ({}),
    isTenantEventType,
  ).state;

/** The internal fold behind stateAt, also used by the sign-in check. */
export function foldAt(history: SubjectHistory, at: Date): FoldedAt {
  const userCut = cutAt(history.userEvents, at);
  const tenantCut = cutAt(history.tenantEvents, at);
  const user = foldTracked<UserState, UserEvent>(
    userCut.applied,
    evolveUser,
    initialUserState(),
    userFacts,
    isUserEventType,
  );
  const tenant = foldTracked<TenantState, TenantEvent>(
    tenantCut.applied,
    evolveTenant,
    initialTenantState(),
    tenantFacts,
    isTenantEventType,
  );

  const userState = user.state;
  const lifetime = tenant.state.status === 'absent' ? { maxLifetimeDays: null } : tenant.state.policy;
  const appPasswords: AppPasswordAt[] =
    userState.status === 'absent'
      ? []
      : Object.values(userState.appPasswords).map((appPassword) => ({
          // Field by field: the state also holds the verifier, which an answer never carries.
          appPasswordId: appPassword.appPasswordId,
          name: appPassword.name,
          protocols: appPassword.protocols === null ? null : [...appPassword.protocols],
          createdAt: appPassword.createdAt,
          expiresAt: expiryOf(appPassword, lifetime),
          status:
            appPassword.status === 'revoked'
              ? 'revoked'
              : isExpired(appPassword, lifetime, at)
                ? 'expired'
                : 'active',
          revokedAt: appPassword.revokedAt,
          revokedReason: appPassword.revokedReason,
          because: userCut.applied
            .filter((event) => appPasswordEvent(event) === appPassword.appPasswordId)
            .map(refOf),
        }));

  const view: PointInTimeState = {
    at: at.toISOString(),
    user:
      userState.status === 'absent'
        ? { status: 'absent' }
        : {
            status: userState.status,
            userId: userState.userId,
            tenantId: userState.tenantId,
            username: userState.username,
            source: userState.source,
            roles: [...userState.roles],
            mfa: userState.mfa,
            mfaRegistered: userState.mfaRegistered,
            requiresModernAuth: userState.requiresModernAuth,
            signInsSuspended: userState.signInsSuspended,
            because: user.because as Record<UserFact, EventRef>,
          },
    appPasswords,
    tenant:
      tenant.state.status === 'absent'
        ? { status: 'absent' }
        : {
            status: 'created',
            tenantId: tenant.state.tenantId,
            name: tenant.state.name,
            policy: tenant.state.policy,
            because: tenant.because,
          },
    recordedAfter: [...userCut.recordedAfter, ...tenantCut.recordedAfter].map(refOf),
    outOfOrder: [...userCut.outOfOrder, ...tenantCut.outOfOrder].map(refOf),
  };
  return { user: userState, tenant: tenant.state, view, userEvents: userCut.applied };
}

/**
 * B4: a user, their app passwords and their tenant's policy at `at`, from the history alone, each
 * fact with the event that made it so.
 */
export const stateAt = (history: SubjectHistory, at: Date): PointInTimeState => foldAt(history, at).view;
