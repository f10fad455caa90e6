import { Logger, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig } from '@latchkey/config';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka } from './kafka.client';
import { KafkaHealthIndicator } from './kafka.health';

@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: Kafka,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const logger = new Logger('kafka');
        return createKafka(config, ({ level, log }) =>
          level === logLevel.ERROR ? logger.error(log.message) : logger.warn(log.message),
        );
      },
    },
    KafkaHealthIndicator,
  ],
  exports: [Kafka, KafkaHealthIndicator],
})
export class MessagingModule {}
