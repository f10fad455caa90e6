import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '@latchkey/config';
import { KafkaProjectionRunner } from '@latchkey/messaging';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { signInActivityProjection } from '../sign-in/sign-in-activity.projection';
import { EVENT_RELAY_PROCESS, type EventRelayProcess } from './event-relay-process';

/**
 * Read models that need not be instant, fed from the events topic by consumer groups, in the process
 * EVENT_RELAY_IN names (beside the relay).
 */
@Injectable()
export class ReadModelConsumers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runners: KafkaProjectionRunner[];

  private readonly active: boolean;

  constructor(
    db: DataSource,
    kafka: Kafka,
    config: AppConfig,
    @Inject(EVENT_RELAY_PROCESS) process: EventRelayProcess,
  ) {
    this.active = config.kafka.relayIn === process;
    const options = { topic: config.kafka.eventsTopic, groupPrefix: `${config.kafka.clientId}.read-models` };
    this.runners = [new KafkaProjectionRunner(db, kafka, signInActivityProjection, options)];
  }

  onApplicationBootstrap(): void {
    // In the background: the API serves while Kafka is away.
    if (this.active) for (const runner of this.runners) runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }
}
