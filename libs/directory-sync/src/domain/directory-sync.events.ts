import { CloudAction } from './cloud-action';
import { DirectoryChangeKind } from './directory-change';
import { EntryIssue } from './directory-entry';
import { MirroredUser } from './directory-mirror';
import { DelayModel, SyncTrigger } from './delay-model';

/**
 * Events of a tenant's directory-sync stream (`directory-sync-<tenantId>`). Type strings are stored
 * and must never change. Every scheduled propagation is an event with its due instant, so the pending
 * work can be rebuilt from PostgreSQL after Redis loses its jobs (`pendingChanges`). Nothing secret:
 * the bind password is sealed and stored by the application, never in an event.
 */
export type DirectoryConnected = {
  type: 'DirectoryConnected';
  data: {
    tenantId: string;
    /** `ldaps://host[:port]`: simple binds need TLS. */
    url: string;
    /** The bind identity (not its password). */
    bindDn: string;
    baseDn: string;
    usersOnlyUnder: string | null;
    delayModel: DelayModel;
    deletionThreshold: number;
    connectedAt: string;
  };
};

/** R8: changes already scheduled keep their due instants; the new model applies to later ones. */
export type DelayModelChanged = {
  type: 'DelayModelChanged';
  data: { tenantId: string; delayModel: DelayModel; changedAt: string };
};

/** B9. */
export type DeletionThresholdChanged = {
  type: 'DeletionThresholdChanged';
  data: { tenantId: string; deletionThreshold: number; changedAt: string };
};

/**
 * The mirror entries a pass wrote, in chunks of at most MIRROR_CHUNK objects (a first sync is large).
 * Objects mirrored before pwdLastSet was read have none.
 */
export type DirectoryObjectsMirrored = {
  type: 'DirectoryObjectsMirrored';
  data: { passId: string; objects: Array<{ objectGuid: string } & MirroredUser> };
};

export type DirectoryChangeDetected = {
  type: 'DirectoryChangeDetected';
  data: {
    tenantId: string;
    changeId: string;
    passId: string;
    objectGuid: string;
    kind: DirectoryChangeKind;
    /** After the change (the last known one for a deletion). */
    upn: string;
    previousUpn: string | null;
    /** The account state after the change. */
    disabled: boolean;
    /**
     * B6: AD's pwdLastSet after the change (a timestamp, no secret). Absent when it had not been
     * read: from changes detected before the sync read it, whose events must still fold.
     */
    pwdLastSet?: string;
    /** The cloud user concerned, or the id a creation will provision; null when none is or will be. */
    userId: string | null;
    detectedAt: string;
    /** AD's whenChanged when the entry carried it: the on-premises instant, on the DC's clock. */
    whenChanged: string | null;
  };
};

export type ScheduleReason =
  /** Scheduled when detected. */
  | 'detected'
  /** B9: released by an admin's approval. */
  | 'mass-deletion-approved'
  /** B10: an on-demand cycle carries everything pending. */
  | 'on-demand-cycle';

export type DirectoryChangeScheduled = {
  type: 'DirectoryChangeScheduled';
  data: { changeId: string; dueAt: string; model: DelayModel; reason: ScheduleReason };
};

export type CancellationReason =
  /** A later change of the same object carries the latest state (Entra syncs state, not history). */
  | 'superseded'
  /** The cloud already holds what the directory says (e.g. disabled, then enabled before it landed). */
  | 'no-net-change'
  /** B9: the admin refused the held deletions. */
  | 'mass-deletion-rejected';

export type DirectoryChangeCancelled = {
  type: 'DirectoryChangeCancelled';
  data: { changeId: string; reason: CancellationReason; supersededBy: string | null; cancelledAt: string };
};

/** The change reached the cloud: `actions` are what the application turns into user commands. */
export type DirectoryChangeApplied = {
  type: 'DirectoryChangeApplied';
  data: { changeId: string; appliedAt: string; actions: CloudAction[] };
};

/**
 * The first `actions` of a change reached the cloud, then a user command was refused (`failure`, the
 * refusal's code, e.g. `user.username-taken`). The change stays scheduled and is retried: what
 * remains is computed from the cloud these actions leave, like any change. Recorded so that what did
 * land (a disable, a reset) is known to every later decision about the object.
 */
export type DirectoryChangePartiallyApplied = {
  type: 'DirectoryChangePartiallyApplied';
  data: { changeId: string; at: string; actions: CloudAction[]; failure: string };
};

/**
 * B1: the instant an event of a change says its disable or delete reached the cloud, or undefined:
 * a DirectoryChangeApplied lands the whole change; a DirectoryChangePartiallyApplied lands it only if
 * the disable or delete was among what landed (a rename refused after it). Read in stream order, the
 * first instant found is when the user's app passwords stopped.
 */
export const stopLandedAt = (event: { type: string; data: unknown }): string | undefined => {
  if (event.type === 'DirectoryChangeApplied')
    return (event.data as DirectoryChangeApplied['data']).appliedAt;
  if (event.type !== 'DirectoryChangePartiallyApplied') return undefined;
  const { actions, at } = event.data as DirectoryChangePartiallyApplied['data'];
  return actions.some((action) => action.type === 'disable' || action.type === 'delete') ? at : undefined;
};

/**
 * B9: these deletions wait for an admin; the rest of the pass was scheduled. A hold of more than
 * HELD_CHUNK deletions is recorded as several of these events with the same passId (count is the
 * whole hold's), so no event outgrows what Kafka takes in one message.
 */
export type MassDeletionHeld = {
  type: 'MassDeletionHeld';
  data: { passId: string; changeIds: string[]; count: number; threshold: number; heldAt: string };
};

export type MassDeletionApproved = {
  type: 'MassDeletionApproved';
  data: { passId: string; approvedAt: string };
};

export type MassDeletionRejected = {
  type: 'MassDeletionRejected';
  data: { passId: string; rejectedAt: string };
};

export type SyncPassCompleted = {
  type: 'SyncPassCompleted';
  data: {
    passId: string;
    trigger: SyncTrigger;
    entries: number;
    changes: number;
    /** The first MAX_REPORTED_ISSUES entry issues (ids and reasons, never the values). */
    issues: EntryIssue[];
    issueCount: number;
    /** The application stored the DirSync cookie in the same transaction as these events. */
    cookieStored: boolean;
    completedAt: string;
  };
};

export type DirectorySyncEvent =
  | DirectoryConnected
  | DelayModelChanged
  | DeletionThresholdChanged
  | DirectoryObjectsMirrored
  | DirectoryChangeDetected
  | DirectoryChangeScheduled
  | DirectoryChangeCancelled
  | DirectoryChangeApplied
  | DirectoryChangePartiallyApplied
  | MassDeletionHeld
  | MassDeletionApproved
  | MassDeletionRejected
  | SyncPassCompleted;

export const DIRECTORY_SYNC_EVENT_SCHEMA_VERSIONS: Readonly<Record<DirectorySyncEvent['type'], number>> =
  Object.freeze({
    DirectoryConnected: 1,
    DelayModelChanged: 1,
    DeletionThresholdChanged: 1,
    DirectoryObjectsMirrored: 1,
    DirectoryChangeDetected: 1,
    DirectoryChangeScheduled: 1,
    DirectoryChangeCancelled: 1,
    DirectoryChangeApplied: 1,
    DirectoryChangePartiallyApplied: 1,
    MassDeletionHeld: 1,
    MassDeletionApproved: 1,
    MassDeletionRejected: 1,
    SyncPassCompleted: 1,
  });

export const MIRROR_CHUNK = 1000;
export const MAX_REPORTED_ISSUES = 100;
/** At most this many change ids in one MassDeletionHeld: about 200 kB of JSON, well under Kafka's 1 MB. */
export const HELD_CHUNK = 5000;
