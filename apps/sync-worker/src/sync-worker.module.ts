import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EventPublicationModule } from '@latchkey/app-passwords';
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
    EventPublicationModule.in('sync-worker'), // the outbox relay and Kafka read models, if EVENT_RELAY_IN=sync-worker
  ],
  controllers: [HealthController],
})
export class SyncWorkerModule {}
