/**
 * An HR offboarding (`offboarding-<offboardingId>`): requested by a signed webhook, then carried out
 * once, now or at its effective instant. Cloud-only users are disabled or deleted in the cloud at
 * once (the cloud is their authority); synced users are changed in Active Directory and reach the
 * cloud through directory sync (R8), unless the tenant's fast path (B2) suspends them at once too.
 * Pure: no I/O. Type strings are stored and must never change; nothing secret goes in an event.
 */
export type OffboardingAction = 'disable' | 'delete';
export type OffboardedUserSource = 'cloud' | 'synced';

export type OffboardingRequested = {
  type: 'OffboardingRequested';
  data: {
    tenantId: string;
    offboardingId: string;
    /** As sent by HR, normalised (trimmed, lower case). */
    username: string;
    /** The cloud user it names, or null when none lives under that name. */
    userId: string | null;
    source: OffboardedUserSource | null;
    action: OffboardingAction;
    effectiveAt: string;
    requestedAt: string;
    idempotencyKey: string;
    reason: string | null;
  };
};

/** Cloud-only user: DisableUser/DeleteUser with origin `hr` ran. */
export type OffboardingApplied = {
  type: 'OffboardingApplied';
  data: { offboardingId: string; userId: string; action: OffboardingAction; appliedAt: string };
};

/** Synced user: the change was written to the on-premises directory (sync brings it, R8). */
export type OffboardingWrittenToDirectory = {
  type: 'OffboardingWrittenToDirectory';
  data: {
    offboardingId: string;
    userId: string;
    action: OffboardingAction;
    /** The object written, or null when a delete found it already gone (a retried write). */
    dn: string | null;
    at: string;
  };
};

/** B2: the synced user's app passwords were suspended in the cloud at once. */
export type OffboardingFastPathApplied = {
  type: 'OffboardingFastPathApplied';
  data: { offboardingId: string; userId: string; suspendedAt: string };
};

export type OffboardingRejectionReason =
  'unknown-user' | 'already-deleted' | 'not-in-directory' | 'directory-write-not-configured';

/** Nothing can be carried out (and nothing will be retried). */
export type OffboardingRejected = {
  type: 'OffboardingRejected';
  data: { offboardingId: string; reason: OffboardingRejectionReason; rejectedAt: string };
};

export type OffboardingEvent =
  | OffboardingRequested
  | OffboardingApplied
  | OffboardingWrittenToDirectory
  | OffboardingFastPathApplied
  | OffboardingRejected;

export const OFFBOARDING_EVENT_SCHEMA_VERSIONS: Readonly<Record<OffboardingEvent['type'], number>> =
  Object.freeze({
    OffboardingRequested: 1,
    OffboardingApplied: 1,
    OffboardingWrittenToDirectory: 1,
    OffboardingFastPathApplied: 1,
    OffboardingRejected: 1,
  });

export const offboardingStreamId = (offboardingId: string) => `offboarding-${offboardingId}`;

export type OffboardingCommand =
  | { type: 'RequestOffboarding'; data: OffboardingRequested['data'] }
  | { type: 'RecordApplied'; data: OffboardingApplied['data'] }
  | { type: 'RecordWrittenToDirectory'; data: OffboardingWrittenToDirectory['data'] }
  | { type: 'RecordFastPath'; data: OffboardingFastPathApplied['data'] }
  | { type: 'Reject'; data: OffboardingRejected['data'] };

export interface RequestedOffboarding {
  status: 'requested';
  request: OffboardingRequested['data'];
  appliedAt: string | null;
  writtenAt: string | null;
  fastPathAt: string | null;
  rejected: OffboardingRejected['data'] | null;
}

export type OffboardingState = { status: 'none' } | RequestedOffboarding;

/** Carried out: nothing left for a job to do (a fast-path suspension alone does not finish it). */
export const isSettled = (state: OffboardingState): boolean =>
  state.status === 'requested' &&
  (state.appliedAt !== null || state.writtenAt !== null || state.rejected !== null);

export const offboardingDecider = {
  initialState: (): OffboardingState => ({ status: 'none' }),

  evolve(state: OffboardingState, event: OffboardingEvent): OffboardingState {
    if (event.type === 'OffboardingRequested') {
      return {
        status: 'requested',
        request: event.data,
        appliedAt: null,
        writtenAt: null,
        fastPathAt: null,
        rejected: null,
      };
    }
    if (state.status !== 'requested') return state;
    switch (event.type) {
      case 'OffboardingApplied':
        return { ...state, appliedAt: event.data.appliedAt };
      case 'OffboardingWrittenToDirectory':
        return { ...state, writtenAt: event.data.at };
      case 'OffboardingFastPathApplied':
        return { ...state, fastPathAt: event.data.suspendedAt };
      case 'OffboardingRejected':
        return { ...state, rejected: event.data };
    }
  },

  /** Every step is recorded once: asking again (a replayed webhook, a retried job) changes nothing. */
  decide(command: OffboardingCommand, state: OffboardingState): OffboardingEvent[] {
    if (command.type === 'RequestOffboarding') {
      return state.status === 'none' ? [{ type: 'OffboardingRequested', data: command.data }] : [];
    }
    if (state.status !== 'requested') throw new Error('no such offboarding');
    switch (command.type) {
      case 'RecordFastPath':
        return state.fastPathAt === null ? [{ type: 'OffboardingFastPathApplied', data: command.data }] : [];
      case 'RecordApplied':
        return isSettled(state) ? [] : [{ type: 'OffboardingApplied', data: command.data }];
      case 'RecordWrittenToDirectory':
        return isSettled(state) ? [] : [{ type: 'OffboardingWrittenToDirectory', data: command.data }];
      case 'Reject':
        return isSettled(state) ? [] : [{ type: 'OffboardingRejected', data: command.data }];
    }
  },
};

/** A tenant's HR webhook secret was replaced (`hr-webhook-<tenantId>`): never the secret itself. */
export type HrWebhookSecretRotated = {
  type: 'HrWebhookSecretRotated';
  data: { tenantId: string; secretId: string; rotatedAt: string; previousValidUntil: string | null };
};

export const hrWebhookStreamId = (tenantId: string) => `hr-webhook-${tenantId}`;

/** How long the previous secret keeps verifying after a rotation, so HR can switch without a gap. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;
