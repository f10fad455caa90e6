export { guidFromBytes, guidToBytes, isObjectGuid, requireObjectGuid } from './guid';
export { isTombstoneDn, isUnderDn, parseDn, type ParsedDn } from './distinguished-name';
export {
  ACCOUNT_DISABLE,
  isUserClass,
  readEntry,
  type DirectoryEntryInput,
  type EntryIssue,
} from './directory-entry';
export { belongsInCloud, emptyMirror, type DirectoryMirror, type MirroredUser } from './directory-mirror';
export {
  classify,
  classifyAll,
  DIRECTORY_CHANGE_KINDS,
  isDeletion,
  syncScope,
  type Classification,
  type DirectoryChange,
  type DirectoryChangeKind,
  type SyncScope,
  type SyncScopeSettings,
} from './directory-change';
export {
  DEFAULT_CYCLE_ANCHOR,
  DEFAULT_CYCLE_INTERVAL_MS,
  DEFAULT_CYCLE_PROCESSING_MS,
  DEFAULT_MAX_DELAY_MS,
  DELAY_MODEL_KINDS,
  delayModel,
  dueAt,
  type DelayContext,
  type DelayModel,
  type DelayModelKind,
  type DelayModelSettings,
  type SyncTrigger,
} from './delay-model';
export {
  DEFAULT_DELETION_THRESHOLD,
  guardMassDeletion,
  requireDeletionThreshold,
  type MassDeletionDecision,
} from './mass-deletion.policy';
export {
  applyCloudActions,
  cloudActions,
  userCommandsFor,
  type CloudAction,
  type CloudUser,
  type TargetState,
} from './cloud-action';
export { changeIdFor, syncedUserIdFor } from './name-based-uuid';
export * from './directory-sync.events';
export * from './directory-sync.commands';
export {
  dueChanges,
  heldMassDeletions,
  initialDirectorySyncState,
  pendingChanges,
  type ConnectedDirectory,
  type DirectorySyncState,
  type PendingChange,
  type TrackedChange,
} from './directory-sync.state';
export { directorySyncDecider, directorySyncStreamId, isRefusalCode } from './directory-sync.decider';
export {
  exposure,
  exposureWindow,
  type Exposure,
  type ExposureWindow,
  type OffboardingTimeline,
  type SignInRecord,
} from './exposure';
export { counterfactual, type CounterfactualReport, type ObservedChange } from './counterfactual';
