import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AppPasswordsModule } from '@latchkey/app-passwords';
import { AppConfig } from '@latchkey/config';
import { BindPasswordCipher } from '@latchkey/directory';
import { ChangeApplier } from './change-applier';
import { ChangeScheduler, DIRECTORY_CHANGES_QUEUE } from './change-scheduler';
import { ConnectDirectory } from './connect-directory';
import { DirectoryConnectionsStore } from './directory-connections.store';
import { DirectorySyncStreams } from './directory-sync.streams';
import { SYNC_REQUESTS_QUEUE } from './sync-requests';
import { SyncPassRunner } from './sync-pass.runner';

/** What both the API and the sync worker need: the stream, the connections, the job queues. */
@Module({
  imports: [
    AppPasswordsModule,
    BullModule.registerQueue({ name: DIRECTORY_CHANGES_QUEUE }, { name: SYNC_REQUESTS_QUEUE }),
  ],
  providers: [
    {
      provide: BindPasswordCipher,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new BindPasswordCipher(config.secrets.key, config.secrets.keyId),
    },
    DirectorySyncStreams,
    DirectoryConnectionsStore,
    ChangeScheduler,
    ConnectDirectory,
    SyncPassRunner,
    ChangeApplier,
  ],
  exports: [
    AppPasswordsModule,
    BindPasswordCipher,
    BullModule,
    DirectorySyncStreams,
    DirectoryConnectionsStore,
    ChangeScheduler,
    ConnectDirectory,
    SyncPassRunner,
    ChangeApplier,
  ],
})
export class DirectorySyncModule {}
