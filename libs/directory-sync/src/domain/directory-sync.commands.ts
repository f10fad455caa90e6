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
export type ApplyDueChange = DirectorySyncCommandOf<'ApplyDueChange', { changeId: string }>;
export type ApproveMassDeletion = DirectorySyncCommandOf<'ApproveMassDeletion', { passId: string }>;
export type RejectMassDeletion = DirectorySyncCommandOf<'RejectMassDeletion', { passId: string }>;

export type DirectorySyncCommand =
  | ConnectDirectory
  | ChangeDelayModel
  | ChangeDeletionThreshold
  | RecordSyncPass
  | ApplyDueChange
  | ApproveMassDeletion
  | RejectMassDeletion;

export const MAX_PASS_ENTRIES = 200_000;
