import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { signInActivityProjection } from '@latchkey/app-passwords';
import { AppConfig } from '@latchkey/config';
import { KafkaProjectionRunner } from '@latchkey/messaging';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';

/** Read models that need not be instant, fed from the events topic by consumer groups. */
@Injectable()
export class ReadModelConsumers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runners: KafkaProjectionRunner[];

  constructor(db: DataSource, kafka: Kafka, config: AppConfig) {
    const options = { topic: config.kafka.eventsTopic, groupPrefix: `${config.kafka.clientId}.read-models` };
    this.runners = [new KafkaProjectionRunner(db, kafka, signInActivityProjection, options)];
  }

  onApplicationBootstrap(): void {
    // In the background: the API serves while Kafka is away.
    for (const runner of this.runners) runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }
}
