export { ChangeScheduler, DIRECTORY_CHANGES_QUEUE } from './application/change-scheduler';
export { ConnectDirectory, type ConnectDirectoryInput } from './application/connect-directory';
export { DirectoryConnectionsStore } from './application/directory-connections.store';
export { DirectorySyncModule } from './application/directory-sync.modules';
export { DirectorySyncStreams } from './application/directory-sync.streams';
export { SYNC_REQUESTS_QUEUE, type SyncRequestJob } from './application/sync-requests';
export { DirectorySyncWorkerModule, SyncScheduler } from './application/sync-worker';
export * from './domain';
export { DirectoryController, DirectorySyncHttpModule } from './application/directory.controller';
