import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ChainWorkerModule } from '@latchkey/audit';
import { LatchkeyConfigModule } from '@latchkey/config';
import { DirectoryModule } from '@latchkey/directory';
import { DirectorySyncWorkerModule } from '@latchkey/directory-sync';
import { JobsModule } from '@latchkey/jobs';
import { MessagingModule } from '@latchkey/messaging';
import { OffboardingWorkerModule } from '@latchkey/offboarding';
import { PersistenceModule } from '@latchkey/persistence';
import { HealthController } from './health.controller';

@Module({
  imports: [
    LatchkeyConfigModule.forRoot(),
    PersistenceModule,
    JobsModule,
    MessagingModule,
    DirectoryModule,
    TerminusModule,
    DirectorySyncWorkerModule,
    OffboardingWorkerModule,
    ChainWorkerModule,
  ],
  controllers: [HealthController],
})
export class SyncWorkerModule {}
