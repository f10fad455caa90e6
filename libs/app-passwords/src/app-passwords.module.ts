import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '@latchkey/config';
import { DeciderStreams, PostgresEventStore } from '@latchkey/event-store';
import { DataSource } from 'typeorm';
import { GetMyAppPasswordPolicyHandler } from './app-passwords/app-password-policy';
import { CreateAppPasswordHandler } from './app-passwords/create-app-password';
import { MyAppPasswordsController } from './app-passwords/my-app-passwords.controller';
import { ListAppPasswordsHandler } from './app-passwords/list-app-passwords';
import { AppPasswordHasher } from './infrastructure/app-password-hasher';
import { Clock, SystemClock } from './infrastructure/clock';
import { CredentialsProjection } from './infrastructure/credentials.projection';
import { EventSourcedStreams } from './infrastructure/event-sourced-streams';
import { LockoutPruner, LockoutStore } from './infrastructure/lockout.store';
import { SignInRecorder } from './infrastructure/sign-in-recorder';
import { VerificationCoherence } from './infrastructure/verification/verification-coherence';
import { VerificationReplica } from './infrastructure/verification/verification-replica';
import { LEAK_REPORTS_PER_MINUTE, LeakReportsController } from './leak-reports/leak-reports.controller';
import { ReportLeakHandler } from './leak-reports/report-leak';
import { SharedRateLimitStorage } from './leak-reports/shared-rate-limits';
import { GetSignInActivityHandler, SignInActivityController } from './sign-in/sign-in-activity.query';
import { SignInController } from './sign-in/sign-in.controller';
import { VerifySignInHandler } from './sign-in/verify-sign-in.handler';
import { RunTenantCommandHandler } from './tenants/tenant-commands';
import { TenantController } from './tenants/tenant.controller';
import { GetUserHandler } from './users/get-user';
import { ListUsersHandler } from './users/list-users';
import { RunUserCommandHandler } from './users/user-commands';
import { UsersController } from './users/users.controller';

/**
 * Tenants, users, their app passwords and legacy sign-in verification: commands, queries and read
 * models. Needs a TypeORM DataSource (PersistenceModule) in the application.
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
    {
      provide: VerificationCoherence,
      inject: [DataSource],
      useFactory: (db: DataSource) => new VerificationCoherence(db),
    },
    {
      provide: VerificationReplica,
      inject: [DataSource],
      useFactory: (db: DataSource) => new VerificationReplica(db),
    },
    DeciderStreams,
    EventSourcedStreams,
    CredentialsProjection,
    LockoutStore,
    SignInRecorder,
    RunTenantCommandHandler,
    RunUserCommandHandler,
    CreateAppPasswordHandler,
    ListAppPasswordsHandler,
    GetUserHandler,
    ListUsersHandler,
    GetMyAppPasswordPolicyHandler,
    VerifySignInHandler,
    GetSignInActivityHandler,
    ReportLeakHandler,
  ],
  exports: [
    CqrsModule,
    PostgresEventStore,
    DeciderStreams,
    EventSourcedStreams,
    Clock,
    LockoutStore,
    VerificationCoherence,
    VerificationReplica,
  ],
})
export class AppPasswordsModule {}

/**
 * The API answers verifications from memory while it holds a lease (VerificationCoherence); a
 * process that only runs commands (the sync worker, the CLI) holds none and is never waited for.
 */
@Injectable()
export class VerificationLease implements OnApplicationBootstrap {
  constructor(
    private readonly coherence: VerificationCoherence,
    private readonly replica: VerificationReplica,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.coherence.serve(this.replica);
  }
}

/**
 * The routes under /v1, for the API only: a process that imports just AppPasswordsModule (the sync
 * worker) runs the commands without serving them.
 */
@Module({
  imports: [
    AppPasswordsModule,
    // The throttler guards the leak-report route only (its limit is on the route too), with a
    // storage that every API instance shares.
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: LEAK_REPORTS_PER_MINUTE }],
        storage: new SharedRateLimitStorage(config.redis),
      }),
    }),
  ],
  providers: [VerificationLease, LockoutPruner],
  controllers: [
    TenantController,
    UsersController,
    MyAppPasswordsController,
    SignInController,
    SignInActivityController,
    LeakReportsController,
  ],
})
export class AppPasswordsHttpModule {}
