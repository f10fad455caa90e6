export { DirectoryHealthIndicator } from './directory.health';
export { DirectoryModule } from './directory.module';
export { BindPasswordCipher } from './bind-password.cipher';
export {
  CHANGE_DETECTION_SETTINGS,
  DEFAULT_CHANGE_DETECTION,
  isDirSyncRefused,
  readChangePages,
  type ChangeDetection,
  type ChangePage,
  type ChangeReadMode,
  type StoredCookie,
} from './change-detection';
export { DirSyncControl, DirSyncFlags } from './dirsync.control';
export { readDirSyncPages, SYNC_ATTRIBUTES, type DirectoryEntry, type DirSyncPage } from './dirsync.reader';
export { equalityFilter, escapeFilterValue, orderingFilter } from './ldap-filter';
export { domainControllerIdentity, withDirectory } from './ldap-session';
export { readUsnChangedPages, SHOW_DELETED_OID, type UsnChangedPage } from './usn-changed.reader';
export { decodeUsnWatermark, encodeUsnWatermark, type UsnWatermark } from './usn-watermark';
