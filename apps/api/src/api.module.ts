import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AccessModule } from '@latchkey/access';
import { AppPasswordsHttpModule, EventPublicationModule } from '@latchkey/app-passwords';
import { AuditHttpModule } from '@latchkey/audit';
import { LatchkeyConfigModule } from '@latchkey/config';
import { ConsoleModule } from '@latchkey/console';
import { DirectorySyncHttpModule } from '@latchkey/directory-sync';
import { JobsModule } from '@latchkey/jobs';
import { MessagingModule } from '@latchkey/messaging';
import { OffboardingHttpModule } from '@latchkey/offboarding';
import { PersistenceModule } from '@latchkey/persistence';
import { HealthController } from './health/health.controller';
import { MeController } from './me/me.controller';
import { HttpMetrics } from './metrics/http-metrics';
import { MetricsController } from './metrics/metrics.controller';

@Module({
  imports: [
    LatchkeyConfigModule.forRoot(),
    AccessModule, // every route needs a bearer token unless @Public()
    PersistenceModule,
    JobsModule,
    MessagingModule,
    TerminusModule,
    AppPasswordsHttpModule,
    DirectorySyncHttpModule,
    OffboardingHttpModule,
    AuditHttpModule,
    ConsoleModule, // the web console at /console/
    EventPublicationModule.in('api'), // the outbox relay and Kafka read models, if EVENT_RELAY_IN=api
  ],
  controllers: [HealthController, MetricsController, MeController],
  providers: [HttpMetrics],
})
export class ApiModule {}
