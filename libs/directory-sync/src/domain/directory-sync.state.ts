import { applyCloudActions, CloudUser, TargetState } from './cloud-action';
import { DirectoryChangeKind, isDeletion } from './directory-change';
import { MirroredUser } from './directory-mirror';
import { DelayModel } from './delay-model';
import { DirectorySyncEvent } from './directory-sync.events';

export type ChangeStatus = 'detected' | 'held' | 'scheduled' | 'applied' | 'cancelled';

export interface TrackedChange {
  changeId: string;
  passId: string;
  objectGuid: string;
  kind: DirectoryChangeKind;
  target: TargetState;
  detectedAt: string;
  status: ChangeStatus;
  dueAt: string | null;
}

export interface MassDeletionHold {
  passId: string;
  changeIds: string[];
  status: 'held' | 'approved' | 'rejected';
}

export interface ConnectedDirectory {
  status: 'connected';
  tenantId: string;
  baseDn: string;
  usersOnlyUnder: string | null;
  delayModel: DelayModel;
  deletionThreshold: number;
  /** What the directory looks like, by objectGuid. */
  mirror: Record<string, MirroredUser>;
  /** What the cloud holds, by objectGuid, as applied changes made it. */
  cloud: Record<string, CloudUser>;
  changes: Record<string, TrackedChange>;
  /** The scheduled, unapplied change of each object (at most one: a later one supersedes it). */
  scheduledByObject: Record<string, string>;
  /** The held deletion of each object. */
  heldByObject: Record<string, string>;
  holds: Record<string, MassDeletionHold>;
  /** Recorded passes: recording one again changes nothing. */
  passes: Record<string, true>;
}

export type DirectorySyncState = { status: 'disconnected' } | ConnectedDirectory;

export const initialDirectorySyncState = (): DirectorySyncState => ({ status: 'disconnected' });

const forget = (index: Record<string, string>, objectGuid: string, changeId: string): void => {
  if (index[objectGuid] === changeId) delete index[objectGuid];
};

/**
 * B6: a cloud user provisioned before pwdLastSet was read has no baseline to tell a reset by; the
 * first pwdLastSet the mirror reads of its object becomes it (a first sight, like a provisioning).
 */
const adoptBaseline = (state: ConnectedDirectory, objectGuid: string): void => {
  const cloud = state.cloud[objectGuid];
  const pwdLastSet = state.mirror[objectGuid]?.pwdLastSet;
  if (cloud?.present && cloud.pwdLastSet === undefined && pwdLastSet !== undefined) {
    state.cloud[objectGuid] = { ...cloud, pwdLastSet };
  }
};

/**
 * Folds one event. A first sync appends tens of thousands of events to this stream, and copying its
 * maps for each would make a fold quadratic, so evolve updates the state it is given and returns it:
 * fold from `initialState()` and never evolve a state you still need (decide only reads state).
 */
export const evolveDirectorySync = (
  state: DirectorySyncState,
  event: DirectorySyncEvent,
): DirectorySyncState => {
  if (event.type === 'DirectoryConnected') {
    const { tenantId, baseDn, usersOnlyUnder, delayModel, deletionThreshold } = event.data;
    return {
      status: 'connected',
      tenantId,
      baseDn,
      usersOnlyUnder,
      delayModel,
      deletionThreshold,
      mirror: {},
      cloud: {},
      changes: {},
      scheduledByObject: {},
      heldByObject: {},
      holds: {},
      passes: {},
    };
  }
  if (state.status === 'disconnected') return state;
  switch (event.type) {
    case 'DelayModelChanged':
      return { ...state, delayModel: event.data.delayModel };
    case 'DeletionThresholdChanged':
      return { ...state, deletionThreshold: event.data.deletionThreshold };
    case 'DirectoryObjectsMirrored':
      for (const { objectGuid, ...user } of event.data.objects) {
        state.mirror[objectGuid] = user;
        adoptBaseline(state, objectGuid);
      }
      return state;
    case 'DirectoryChangeDetected': {
      const { changeId, passId, objectGuid, kind, upn, disabled, pwdLastSet, detectedAt } = event.data;
      state.changes[changeId] = {
        changeId,
        passId,
        objectGuid,
        kind,
        target: {
          present: !isDeletion(kind),
          upn,
          disabled,
          ...(pwdLastSet === undefined ? {} : { pwdLastSet }),
        },
        detectedAt,
        status: 'detected',
        dueAt: null,
      };
      return state;
    }
    case 'DirectoryChangeScheduled': {
      const change = state.changes[event.data.changeId];
      if (change === undefined) return state;
      state.changes[change.changeId] = { ...change, status: 'scheduled', dueAt: event.data.dueAt };
      forget(state.heldByObject, change.objectGuid, change.changeId);
      state.scheduledByObject[change.objectGuid] = change.changeId;
      return state;
    }
    case 'DirectoryChangeCancelled': {
      const change = state.changes[event.data.changeId];
      if (change === undefined) return state;
      state.changes[change.changeId] = { ...change, status: 'cancelled' };
      forget(state.scheduledByObject, change.objectGuid, change.changeId);
      forget(state.heldByObject, change.objectGuid, change.changeId);
      return state;
    }
    case 'DirectoryChangeApplied': {
      const change = state.changes[event.data.changeId];
      if (change === undefined) return state;
      state.changes[change.changeId] = { ...change, status: 'applied' };
      forget(state.scheduledByObject, change.objectGuid, change.changeId);
      const cloud = applyCloudActions(state.cloud[change.objectGuid], event.data.actions);
      if (cloud !== undefined) state.cloud[change.objectGuid] = cloud;
      adoptBaseline(state, change.objectGuid);
      return state;
    }
    case 'DirectoryChangePartiallyApplied': {
      // What landed is the cloud's now; the change stays scheduled for the rest.
      const change = state.changes[event.data.changeId];
      if (change === undefined) return state;
      const cloud = applyCloudActions(state.cloud[change.objectGuid], event.data.actions);
      if (cloud !== undefined) state.cloud[change.objectGuid] = cloud;
      adoptBaseline(state, change.objectGuid);
      return state;
    }
    case 'MassDeletionHeld': {
      const { passId, changeIds } = event.data;
      // A large hold arrives in several events (HELD_CHUNK): each adds its deletions.
      const earlier = state.holds[passId]?.changeIds ?? [];
      state.holds[passId] = { passId, changeIds: [...earlier, ...changeIds], status: 'held' };
      for (const changeId of changeIds) {
        const change = state.changes[changeId];
        if (change === undefined) continue;
        state.changes[changeId] = { ...change, status: 'held' };
        state.heldByObject[change.objectGuid] = changeId;
      }
      return state;
    }
    case 'MassDeletionApproved':
    case 'MassDeletionRejected': {
      const hold = state.holds[event.data.passId];
      if (hold === undefined) return state;
      const status = event.type === 'MassDeletionApproved' ? 'approved' : 'rejected';
      state.holds[hold.passId] = { ...hold, status };
      return state;
    }
    case 'SyncPassCompleted':
      state.passes[event.data.passId] = true;
      return state;
  }
};

export interface PendingChange {
  changeId: string;
  objectGuid: string;
  dueAt: string;
}

/**
 * The scheduled changes not yet applied, soonest first: after Redis loses its jobs, the worker
 * re-creates one job per due instant among them (job id from tenant and instant, so none is queued
 * twice; applying twice is refused anyway by ApplyDueChanges).
 */
export const pendingChanges = (state: DirectorySyncState): PendingChange[] => {
  if (state.status === 'disconnected') return [];
  return sortedByDueAt(Object.values(state.scheduledByObject).map((changeId) => state.changes[changeId]));
};

/** The scheduled changes due at `now`, soonest first: what ApplyDueChanges may apply now. */
export const dueChanges = (state: DirectorySyncState, now: Date): PendingChange[] => {
  if (state.status === 'disconnected') return [];
  const at = now.getTime();
  return sortedByDueAt(
    Object.values(state.scheduledByObject)
      .map((changeId) => state.changes[changeId])
      .filter((change) => Date.parse(change.dueAt as string) <= at),
  );
};

const sortedByDueAt = (changes: TrackedChange[]): PendingChange[] =>
  changes
    .map(({ changeId, objectGuid, dueAt }) => ({ changeId, objectGuid, dueAt: dueAt as string }))
    .map((change) => ({ change, at: Date.parse(change.dueAt) }))
    .sort((a, b) => a.at - b.at || a.change.changeId.localeCompare(b.change.changeId))
    .map(({ change }) => change);

/** B9: the holds still waiting for an admin, with the deletions each still holds. */
export const heldMassDeletions = (
  state: DirectorySyncState,
): Array<{ passId: string; changeIds: string[] }> => {
  if (state.status === 'disconnected') return [];
  return Object.values(state.holds)
    .filter((hold) => hold.status === 'held')
    .map((hold) => ({
      passId: hold.passId,
      changeIds: hold.changeIds.filter((id) => state.changes[id]?.status === 'held'),
    }));
};
