export { DirectoryHealthIndicator } from './directory.health';
export { DirectoryModule } from './directory.module';
export { BindPasswordCipher } from './bind-password.cipher';
export { DirSyncControl, DirSyncFlags } from './dirsync.control';
export { readDirSyncPages, SYNC_ATTRIBUTES, type DirectoryEntry, type DirSyncPage } from './dirsync.reader';
export { equalityFilter, escapeFilterValue } from './ldap-filter';
export { domainControllerIdentity, withDirectory } from './ldap-session';
