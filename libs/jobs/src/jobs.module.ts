import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig } from '@latchkey/config';
import { RedisHealthIndicator } from './redis.health';

/**
 * Delayed and repeatable jobs in Redis (bull). Redis only schedules: every job's due instant is also
 * an event in PostgreSQL, so jobs lost with Redis are re-created from there.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        redis: { host: config.redis.host, port: config.redis.port },
        prefix: config.redis.prefix,
      }),
    }),
    TerminusModule,
  ],
  providers: [RedisHealthIndicator],
  exports: [RedisHealthIndicator, BullModule],
})
export class JobsModule {}
