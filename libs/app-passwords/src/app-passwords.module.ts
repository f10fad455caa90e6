import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AppConfig } from '@latchkey/config';
import { PostgresEventStore } from '@latchkey/event-store';
import { DataSource } from 'typeorm';
import { CreateAppPasswordHandler } from './app-passwords/create-app-password';
import { ListAppPasswordsHandler } from './app-passwords/list-app-passwords';
import { AppPasswordHasher } from './infrastructure/app-password-hasher';
import { Clock, SystemClock } from './infrastructure/clock';
import { CredentialsProjection } from './infrastructure/credentials.projection';
import { EventSourcedStreams } from './infrastructure/event-sourced-streams';
import { LockoutStore } from './infrastructure/lockout.store';
import { SignInRecorder } from './infrastructure/sign-in-recorder';
import { ReportLeakHandler } from './leak-reports/report-leak';
import { VerifySignInHandler } from './sign-in/verify-sign-in.handler';
import { RunTenantCommandHandler } from './tenants/tenant-commands';
import { GetUserHandler } from './users/get-user';
import { RunUserCommandHandler } from './users/user-commands';

/**
 * Tenants, users, their app passwords and legacy sign-in verification. Needs a TypeORM DataSource
 * (PersistenceModule) in the importing application.
 */
@Module({
  imports: [CqrsModule],
  providers: [
    { provide: Clock, useClass: SystemClock },
    {
      provide: PostgresEventStore,
      inject: [DataSource],
      useFactory: (db: DataSource) => new PostgresEventStore(db),
    },
    {
      provide: AppPasswordHasher,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new AppPasswordHasher(config.appPasswords.pepper),
    },
    EventSourcedStreams,
    CredentialsProjection,
    LockoutStore,
    SignInRecorder,
    RunTenantCommandHandler,
    RunUserCommandHandler,
    CreateAppPasswordHandler,
    ListAppPasswordsHandler,
    GetUserHandler,
    VerifySignInHandler,
    ReportLeakHandler,
  ],
  exports: [CqrsModule, PostgresEventStore, Clock],
})
export class AppPasswordsModule {}
