import {
  ConflictError,
  Decider,
  NotFoundError,
  requireUuid,
  RuleViolationError,
  ValidationError,
} from '../../../app-passwords/src/domain';
import { cloudActions, plannedUserId, TargetState } from './cloud-action';
import { classifyAll, isDeletion, syncScope } from './directory-change';
import { parseDn } from './distinguished-name';
import { DelayModel, delayModel, dueAt, SyncTrigger } from './delay-model';
import {
  ApplyDueChanges,
  RecordPartialApplication,
  ApproveMassDeletion,
  ConnectDirectory,
  DirectorySyncCommand,
  MAX_APPLY_BATCH,
  MAX_PASS_ENTRIES,
  RecordSyncPass,
  RejectMassDeletion,
} from './directory-sync.commands';
import {
  DirectoryChangeDetected,
  DirectorySyncEvent,
  HELD_CHUNK,
  MAX_REPORTED_ISSUES,
  MIRROR_CHUNK,
  ScheduleReason,
} from './directory-sync.events';
import {
  ConnectedDirectory,
  DirectorySyncState,
  evolveDirectorySync,
  initialDirectorySyncState,
} from './directory-sync.state';
import {
  DEFAULT_DELETION_THRESHOLD,
  guardMassDeletion,
  requireDeletionThreshold,
} from './mass-deletion.policy';
import { changeIdFor } from './name-based-uuid';

export const directorySyncStreamId = (tenantId: string): string =>
  `directory-sync-${requireUuid('tenantId', tenantId)}`;

/** A stream of another tenant is answered exactly like a tenant without a directory. */
const requireConnected = (state: DirectorySyncState, tenantId: string): ConnectedDirectory => {
  if (state.status !== 'connected' || state.tenantId !== tenantId) {
    throw new NotFoundError('directory.not-connected', 'This tenant has no connected directory.');
  }
  return state;
};

const LDAPS_URL = /^ldaps:\/\/[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::(\d{1,5}))?\/?$/i;

const connect = (command: ConnectDirectory, state: DirectorySyncState): DirectorySyncEvent[] => {
  const { data, metadata } = command;
  const tenantId = requireUuid('tenantId', data.tenantId);
  if (state.status === 'connected') {
    throw new ConflictError('directory.already-connected', undefined, 'This tenant already has a directory.');
  }
  const url = typeof data.url === 'string' ? LDAPS_URL.exec(data.url) : null;
  if (url === null || Number(url[1] ?? 636) > 65535) {
    throw new ValidationError(
      'directory.invalid-url',
      undefined,
      'url must be ldaps://host[:port]: simple binds to Active Directory need TLS.',
    );
  }
  if (parseDn(data.bindDn) === undefined) {
    throw new ValidationError('directory.invalid-bind-dn', undefined, 'bindDn must be a distinguished name.');
  }
  syncScope({ baseDn: data.baseDn, usersOnlyUnder: data.usersOnlyUnder });
  return [
    {
      type: 'DirectoryConnected',
      data: {
        tenantId,
        url: data.url,
        bindDn: data.bindDn,
        baseDn: data.baseDn,
        usersOnlyUnder: data.usersOnlyUnder ?? null,
        delayModel: delayModel(data.delayModel),
        deletionThreshold: requireDeletionThreshold(data.deletionThreshold ?? DEFAULT_DELETION_THRESHOLD),
        connectedAt: metadata.now.toISOString(),
      },
    },
  ];
};

/**
 * Schedules one change of an object, superseding whatever of that object is still scheduled or held:
 * Entra syncs the latest state at the cycle, so the latest change carries it, and it lands no later
 * than the earliest change it supersedes would have (that cycle would have read the latest state).
 * Nothing is scheduled if the cloud already holds the target state.
 */
const schedule = (
  dir: ConnectedDirectory,
  change: { changeId: string; objectGuid: string; target: TargetState },
  ownDueAt: Date,
  reason: ScheduleReason,
  now: Date,
): DirectorySyncEvent[] => {
  const { changeId, objectGuid } = change;
  const cancelledAt = now.toISOString();
  const superseded = [dir.scheduledByObject[objectGuid], dir.heldByObject[objectGuid]].filter(
    (id): id is string => id !== undefined && id !== changeId,
  );
  const events: DirectorySyncEvent[] = superseded.map((id) => ({
    type: 'DirectoryChangeCancelled',
    data: { changeId: id, reason: 'superseded', supersededBy: changeId, cancelledAt },
  }));
  const due = Math.min(
    ownDueAt.getTime(),
    ...superseded.map((id) => dir.changes[id].dueAt).flatMap((at) => (at === null ? [] : [Date.parse(at)])),
  );
  if (cloudActions(dir.tenantId, objectGuid, dir.cloud[objectGuid], change.target).length === 0) {
    events.push({
      type: 'DirectoryChangeCancelled',
      data: { changeId, reason: 'no-net-change', supersededBy: null, cancelledAt },
    });
  } else {
    events.push({
      type: 'DirectoryChangeScheduled',
      data: { changeId, dueAt: new Date(due).toISOString(), model: dir.delayModel, reason },
    });
  }
  return events;
};

/** B10: an on-demand pass in the cycle model is a manual delta cycle: it carries everything pending. */
const onDemandCycle = (
  dir: ConnectedDirectory,
  model: DelayModel,
  touched: ReadonlySet<string>,
  now: Date,
): DirectorySyncEvent[] => {
  if (model.kind !== 'cycle') return [];
  const landing = now.getTime() + model.processingMs;
  return Object.entries(dir.scheduledByObject)
    .filter(
      ([objectGuid, changeId]) =>
        !touched.has(objectGuid) && Date.parse(dir.changes[changeId].dueAt!) > landing,
    )
    .map(([, changeId]) => ({
      type: 'DirectoryChangeScheduled',
      data: { changeId, dueAt: new Date(landing).toISOString(), model, reason: 'on-demand-cycle' },
    }));
};

const TRIGGERS: readonly SyncTrigger[] = ['scheduled', 'on-demand'];

const recordSyncPass = (command: RecordSyncPass, dir: ConnectedDirectory): DirectorySyncEvent[] => {
  const { data, metadata } = command;
  const passId = requireUuid('passId', data.passId);
  if (dir.passes[passId]) return [];
  if (!TRIGGERS.includes(data.trigger)) {
    throw new ValidationError('directory.invalid-trigger', 'B10', 'trigger is scheduled or on-demand.');
  }
  if (typeof data.cookieStored !== 'boolean') {
    throw new ValidationError('directory.invalid-pass', undefined, 'cookieStored is true or false.');
  }
  if (!Array.isArray(data.entries) || data.entries.length > MAX_PASS_ENTRIES) {
    throw new ValidationError(
      'directory.invalid-pass',
      undefined,
      `entries must be a list of at most ${MAX_PASS_ENTRIES} directory entries.`,
    );
  }
  const now = metadata.now;
  const nowIso = now.toISOString();
  const scope = syncScope({ baseDn: dir.baseDn, usersOnlyUnder: dir.usersOnlyUnder ?? undefined });
  const { changes, updates, issues } = classifyAll(dir.mirror, data.entries, scope);
  const events: DirectorySyncEvent[] = [];

  const objects = Object.entries(updates).map(([objectGuid, user]) => ({ objectGuid, ...user }));
  for (let i = 0; i < objects.length; i += MIRROR_CHUNK) {
    events.push({
      type: 'DirectoryObjectsMirrored',
      data: { passId, objects: objects.slice(i, i + MIRROR_CHUNK) },
    });
  }

  const detected = changes.map((change, index) => {
    const target: TargetState = {
      present: !isDeletion(change.kind),
      upn: change.upn,
      disabled: change.disabled,
      ...(change.pwdLastSet === undefined ? {} : { pwdLastSet: change.pwdLastSet }),
    };
    const cloud = dir.cloud[change.objectGuid];
    const event: DirectoryChangeDetected = {
      type: 'DirectoryChangeDetected',
      data: {
        tenantId: dir.tenantId,
        changeId: changeIdFor(dir.tenantId, passId, index),
        passId,
        objectGuid: change.objectGuid,
        kind: change.kind,
        upn: change.upn,
        previousUpn: change.previousUpn ?? null,
        disabled: change.disabled,
        ...(change.pwdLastSet === undefined ? {} : { pwdLastSet: change.pwdLastSet }),
        userId:
          target.present || cloud?.present ? plannedUserId(dir.tenantId, change.objectGuid, cloud) : null,
        detectedAt: nowIso,
        whenChanged: change.whenChanged ?? null,
      },
    };
    return { ...event.data, target, event };
  });
  events.push(...detected.map(({ event }) => event));

  // B9: only deletions of users the cloud holds delete anybody.
  const guard = guardMassDeletion(
    detected.filter((change) => dir.cloud[change.objectGuid]?.present === true),
    dir.deletionThreshold,
  );
  const held = new Set(
    guard.decision === 'hold-deletions' ? guard.held.map((change) => change.changeId) : [],
  );

  const lastOfObject = new Map<string, string>();
  for (const change of detected)
    if (!held.has(change.changeId)) lastOfObject.set(change.objectGuid, change.changeId);
  for (const change of detected) {
    if (held.has(change.changeId)) continue;
    const last = lastOfObject.get(change.objectGuid) as string;
    if (last !== change.changeId) {
      events.push({
        type: 'DirectoryChangeCancelled',
        data: { changeId: change.changeId, reason: 'superseded', supersededBy: last, cancelledAt: nowIso },
      });
      continue;
    }
    const own = dueAt(
      dir.delayModel,
      { detectedAt: now },
      { objectGuid: change.objectGuid, trigger: data.trigger },
    );
    events.push(...schedule(dir, change, own, 'detected', now));
  }
  if (data.trigger === 'on-demand') {
    events.push(...onDemandCycle(dir, dir.delayModel, new Set(lastOfObject.keys()), now));
  }
  if (guard.decision === 'hold-deletions') {
    const heldIds = [...held];
    for (let i = 0; i < heldIds.length; i += HELD_CHUNK) {
      events.push({
        type: 'MassDeletionHeld',
        data: {
          passId,
          changeIds: heldIds.slice(i, i + HELD_CHUNK),
          count: guard.count,
          threshold: guard.threshold,
          heldAt: nowIso,
        },
      });
    }
  }
  events.push({
    type: 'SyncPassCompleted',
    data: {
      passId,
      trigger: data.trigger,
      entries: data.entries.length,
      changes: changes.length,
      issues: issues.slice(0, MAX_REPORTED_ISSUES),
      issueCount: issues.length,
      cookieStored: data.cookieStored,
      completedAt: nowIso,
    },
  });
  return events;
};

/**
 * R8: a change reaches the cloud at its due instant, not before (until then the user's app passwords
 * keep working). A change already applied or cancelled answers nothing, so a job that fires twice
 * (Redis restored, a retry) applies it once; one not yet due refuses the whole batch.
 */
const applyDueChanges = (command: ApplyDueChanges, dir: ConnectedDirectory): DirectorySyncEvent[] => {
  const { changeIds } = command.data;
  if (!Array.isArray(changeIds) || changeIds.length === 0 || changeIds.length > MAX_APPLY_BATCH) {
    throw new ValidationError(
      'directory.invalid-batch',
      undefined,
      `changeIds must list 1 to ${MAX_APPLY_BATCH} changes.`,
    );
  }
  const now = command.metadata.now;
  const at = now.toISOString();
  const events: DirectorySyncEvent[] = [];
  for (const id of new Set(changeIds)) {
    const changeId = requireUuid('changeId', id);
    const change = dir.changes[changeId];
    if (change === undefined) {
      throw new NotFoundError('directory-change.not-found', 'There is no such change.');
    }
    if (change.status !== 'scheduled') continue;
    if (now.getTime() < Date.parse(change.dueAt!)) {
      throw new RuleViolationError(
        'R8',
        'not-yet-due',
        `Change ${changeId} reaches the cloud at ${change.dueAt}.`,
      );
    }
    // An object has at most one scheduled change, so the cloud before the batch is the cloud before
    // this change: no other change of the batch touches it.
    const actions = cloudActions(
      dir.tenantId,
      change.objectGuid,
      dir.cloud[change.objectGuid],
      change.target,
    );
    events.push(
      actions.length === 0
        ? {
            type: 'DirectoryChangeCancelled',
            data: { changeId, reason: 'no-net-change', supersededBy: null, cancelledAt: at },
          }
        : { type: 'DirectoryChangeApplied', data: { changeId, appliedAt: at, actions } },
    );
  }
  return events;
};

/** A refusal's code as DomainError spells them (`user.username-taken`, `R6.name-taken`): never a message. */
export const isRefusalCode = (value: unknown): value is string =>
  typeof value === 'string' && /^[a-z0-9.-]{1,100}$/i.test(value);

const recordPartialApplication = (
  command: RecordPartialApplication,
  dir: ConnectedDirectory,
): DirectorySyncEvent[] => {
  const { landed, failure } = command.data;
  const changeId = requireUuid('changeId', command.data.changeId);
  const change = dir.changes[changeId];
  if (change === undefined) {
    throw new NotFoundError('directory-change.not-found', 'There is no such change.');
  }
  if (!isRefusalCode(failure)) {
    throw new ValidationError('directory.invalid-failure', undefined, 'failure must be a refusal code.');
  }
  if (change.status !== 'scheduled') return [];
  const actions = cloudActions(dir.tenantId, change.objectGuid, dir.cloud[change.objectGuid], change.target);
  if (!Number.isInteger(landed) || landed < 1 || landed >= actions.length) {
    throw new ValidationError(
      'directory.invalid-partial-application',
      undefined,
      `landed must be 1 to ${actions.length - 1}: some, not all, of the change's actions.`,
    );
  }
  return [
    {
      type: 'DirectoryChangePartiallyApplied',
      data: { changeId, at: command.metadata.now.toISOString(), actions: actions.slice(0, landed), failure },
    },
  ];
};

const requireHold = (dir: ConnectedDirectory, passId: string) => {
  const hold = dir.holds[requireUuid('passId', passId)];
  if (hold === undefined)
    throw new NotFoundError('directory.hold-not-found', 'No deletions are held for this pass.');
  return hold;
};

/**
 * B9: approved deletions are scheduled at their modelled instant, or at once if that has passed
 * (the admin released a cycle that was waiting).
 */
const approveMassDeletion = (command: ApproveMassDeletion, dir: ConnectedDirectory): DirectorySyncEvent[] => {
  const hold = requireHold(dir, command.data.passId);
  if (hold.status === 'approved') return [];
  if (hold.status === 'rejected') {
    throw new ConflictError('B9.already-rejected', 'B9', 'These deletions were rejected.');
  }
  const now = command.metadata.now;
  const events: DirectorySyncEvent[] = [
    { type: 'MassDeletionApproved', data: { passId: hold.passId, approvedAt: now.toISOString() } },
  ];
  for (const changeId of hold.changeIds) {
    const change = dir.changes[changeId];
    if (change?.status !== 'held') continue; // superseded meanwhile
    const modelled = dueAt(dir.delayModel, { detectedAt: new Date(change.detectedAt) }, change);
    const own = new Date(Math.max(now.getTime(), modelled.getTime()));
    events.push(...schedule(dir, change, own, 'mass-deletion-approved', now));
  }
  return events;
};

/**
 * B9: rejected deletions are cancelled; the cloud users stay until the directory changes them again
 * (restoring the objects on premises, for instance, which the mirror then sees as a creation).
 */
const rejectMassDeletion = (command: RejectMassDeletion, dir: ConnectedDirectory): DirectorySyncEvent[] => {
  const hold = requireHold(dir, command.data.passId);
  if (hold.status === 'rejected') return [];
  if (hold.status === 'approved') {
    throw new ConflictError('B9.already-approved', 'B9', 'These deletions were approved.');
  }
  const at = command.metadata.now.toISOString();
  return [
    { type: 'MassDeletionRejected', data: { passId: hold.passId, rejectedAt: at } },
    ...hold.changeIds
      .filter((changeId) => dir.changes[changeId]?.status === 'held')
      .map((changeId): DirectorySyncEvent => ({
        type: 'DirectoryChangeCancelled',
        data: { changeId, reason: 'mass-deletion-rejected', supersededBy: null, cancelledAt: at },
      })),
  ];
};

export const decideDirectorySync = (
  command: DirectorySyncCommand,
  state: DirectorySyncState,
): DirectorySyncEvent[] => {
  if (command.type === 'ConnectDirectory') return connect(command, state);
  const dir = requireConnected(state, command.data.tenantId);
  const now = command.metadata.now.toISOString();
  switch (command.type) {
    case 'ChangeDelayModel': {
      const model = delayModel(command.data.delayModel);
      if (JSON.stringify(model) === JSON.stringify(dir.delayModel)) return [];
      return [
        { type: 'DelayModelChanged', data: { tenantId: dir.tenantId, delayModel: model, changedAt: now } },
      ];
    }
    case 'ChangeDeletionThreshold': {
      const deletionThreshold = requireDeletionThreshold(command.data.deletionThreshold);
      if (deletionThreshold === dir.deletionThreshold) return [];
      return [
        {
          type: 'DeletionThresholdChanged',
          data: { tenantId: dir.tenantId, deletionThreshold, changedAt: now },
        },
      ];
    }
    case 'RecordSyncPass':
      return recordSyncPass(command, dir);
    case 'ApplyDueChanges':
      return applyDueChanges(command, dir);
    case 'RecordPartialApplication':
      return recordPartialApplication(command, dir);
    case 'ApproveMassDeletion':
      return approveMassDeletion(command, dir);
    case 'RejectMassDeletion':
      return rejectMassDeletion(command, dir);
  }
};

export const directorySyncDecider: Decider<DirectorySyncCommand, DirectorySyncState, DirectorySyncEvent> = {
  decide: decideDirectorySync,
  evolve: evolveDirectorySync,
  initialState: initialDirectorySyncState,
};
