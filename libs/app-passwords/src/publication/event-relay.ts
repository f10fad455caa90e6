import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '@latchkey/config';
import type { EventEnvelope } from '@latchkey/event-store';
import { connectedClient, OutboxRelay } from '@latchkey/messaging';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { toPublishableEvent } from '../domain';
import { EVENT_RELAY_PROCESS, type EventRelayProcess } from './event-relay-process';

/** What of an event may leave PostgreSQL: app-password events lose their verifier (PRODUCT §5). */
function publicView(event: EventEnvelope): unknown {
  if (event.type !== 'AppPasswordCreated') return event.data;
  return toPublishableEvent({ type: event.type, data: event.data } as Parameters<
    typeof toPublishableEvent
  >[0]).data;
}

/**
 * Runs the outbox relay in every instance of the process EVENT_RELAY_IN names (the API or the sync
 * worker); an advisory lock makes one of them active and the others take over when it goes. Kafka
 * being away delays publication, never a command.
 */
@Injectable()
export class EventRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventRelay.name);
  private readonly relay: OutboxRelay;
  private stopping = false;

  constructor(
    db: DataSource,
    private readonly kafka: Kafka,
    private readonly config: AppConfig,
    @Inject(EVENT_RELAY_PROCESS) private readonly process: EventRelayProcess,
  ) {
    this.relay = new OutboxRelay(db, kafka, publicView, { topic: config.kafka.eventsTopic });
  }

  onApplicationBootstrap(): void {
    if (this.config.kafka.relayIn !== this.process) return;
    // In the background: with Kafka away the API must still start and serve (and say 503 on /health);
    // the relay backs off until the broker answers.
    void this.ensureTopic()
      .catch((error: unknown) =>
        this.logger.warn(`could not check topic ${this.config.kafka.eventsTopic} yet: ${String(error)}`),
      )
      // A shutdown that came while the topic was being checked has stopped the relay already.
      .finally(() => this.stopping || this.relay.start());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.relay.stop();
  }

  private async ensureTopic(): Promise<void> {
    const admin = await connectedClient(this.kafka.admin());
    try {
      const topic = this.config.kafka.eventsTopic;
      if ((await admin.listTopics()).includes(topic)) return;
      // Partitions by stream key: one stream's events stay in order on one partition.
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    } finally {
      await admin.disconnect();
    }
  }
}
