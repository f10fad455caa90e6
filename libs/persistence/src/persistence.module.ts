import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '@latchkey/config';
import { dataSourceOptions } from './data-source.options';
import { PostgresHealthIndicator } from './postgres.health';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      // Fail fast at start-up instead of retrying silently: the supervisor restarts us.
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config),
        retryAttempts: 3,
        retryDelay: 1_000,
      }),
    }),
    TerminusModule,
  ],
  providers: [PostgresHealthIndicator],
  exports: [PostgresHealthIndicator],
})
export class PersistenceModule {}
