import { CommandMetadata } from '../../../app-passwords/src/domain';
import { DirectoryEntryInput } from './directory-entry';
import { SyncTrigger } from './delay-model';

/** Every command names its tenant; a stream of another tenant answers `directory.not-connected`. */
type DirectorySyncCommandOf<Type extends string, Data> = {
  type: Type;
  data: { tenantId: string } & Data;
  metadata: CommandMetadata;
};

export type ConnectDirectory = DirectorySyncCommandOf<
  'ConnectDirectory',
  {
    url: string;
    bindDn: string;
    baseDn: string;
    usersOnlyUnder?: string;
    /** Validated by `delayModel`. */
    delayModel: unknown;
    deletionThreshold?: number;
  }
>;
export type ChangeDelayModel = DirectorySyncCommandOf<'ChangeDelayModel', { delayModel: unknown }>;
export type ChangeDeletionThreshold = DirectorySyncCommandOf<
  'ChangeDeletionThreshold',
  { deletionThreshold: number }
>;

/**
 * One whole DirSync pass (every page): B9 counts a pass's deletions, so it cannot be decided page by
 * page. `metadata.now` is when the pass read the directory: every change's detectedAt.
 */
export type RecordSyncPass = DirectorySyncCommandOf<
  'RecordSyncPass',
  { passId: string; trigger: SyncTrigger; entries: DirectoryEntryInput[]; cookieStored: boolean }
>;
/**
 * Applies scheduled changes that are due, all in one decision: Entra Connect's cycle lands every
 * change of a cycle at the same instant, and one decision and append per change would make the
 * last of thousands land many seconds late. At most MAX_APPLY_BATCH changes, so one append stays
 * a reasonable transaction.
 */
export type ApplyDueChanges = DirectorySyncCommandOf<'ApplyDueChanges', { changeIds: string[] }>;
/**
 * The first `landed` actions of a scheduled change (as ApplyDueChanges decides them now) reached the
 * cloud before a user command was refused with `failure` (a refusal's code, never a message).
 */
export type RecordPartialApplication = DirectorySyncCommandOf<
  'RecordPartialApplication',
  { changeId: string; landed: number; failure: string }
>;
export type ApproveMassDeletion = DirectorySyncCommandOf<'ApproveMassDeletion', { passId: string }>;
export type RejectMassDeletion = DirectorySyncCommandOf<'RejectMassDeletion', { passId: string }>;

export type DirectorySyncCommand =
  | ConnectDirectory
  | ChangeDelayModel
  | ChangeDeletionThreshold
  | RecordSyncPass
  | ApplyDueChanges
  | RecordPartialApplication
  | ApproveMassDeletion
  | RejectMassDeletion;

export const MAX_PASS_ENTRIES = 200_000;
export const MAX_APPLY_BATCH = 500;
