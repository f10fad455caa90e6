import { Logger, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig } from '@latchkey/config';
import { Kafka } from 'kafkajs';
import { createKafka, kafkaLogLine } from './kafka.client';
import { KafkaHealthIndicator } from './kafka.health';

@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: Kafka,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const logger = new Logger('kafka');
        return createKafka(config, (entry) => {
          const line = kafkaLogLine(entry);
          if (line) logger[line.level](line.text);
        });
      },
    },
    KafkaHealthIndicator,
  ],
  exports: [Kafka, KafkaHealthIndicator],
})
export class MessagingModule {}
