import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { DirectorySyncModule } from '@latchkey/directory-sync';
import { HrWebhookSecrets } from './hr-webhook-secrets.store';
import { OffboardingExecutor } from './offboarding.executor';
import { OFFBOARDING_QUEUE, OffboardingScheduler } from './offboarding.scheduler';
import { OffboardingStreams } from './offboarding.streams';
import { OffboardingTimeline } from './offboarding-timeline';
import { RequestOffboarding } from './request-offboarding';

/**
 * What both the API and the sync worker need: the streams, the secrets, the executor, the job
 * queue. DirectorySyncModule brings the user commands, the directory connections and their cipher.
 */
@Module({
  imports: [DirectorySyncModule, BullModule.registerQueue({ name: OFFBOARDING_QUEUE })],
  providers: [
    OffboardingStreams,
    HrWebhookSecrets,
    OffboardingExecutor,
    OffboardingScheduler,
    RequestOffboarding,
    OffboardingTimeline,
  ],
  exports: [
    DirectorySyncModule,
    OffboardingStreams,
    HrWebhookSecrets,
    OffboardingExecutor,
    OffboardingScheduler,
    RequestOffboarding,
    OffboardingTimeline,
  ],
})
export class OffboardingModule {}
