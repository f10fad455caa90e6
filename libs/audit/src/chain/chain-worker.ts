import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '@latchkey/config';
import { connectedClient, PRODUCER_CONFIG } from '@latchkey/messaging';
import { Kafka, type Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { ChainSealer, type ChainAnchor } from './chain-sealer';

/**
 * Runs the sealer in the sync worker (every instance; one is active by advisory lock) and publishes
 * each anchor to Kafka, outside the database: a consumer that keeps the topic (or a retention policy
 * with compaction off) holds heads that a database writer cannot take back.
 */
@Injectable()
export class ChainWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ChainWorker.name);
  readonly sealer: ChainSealer;
  private readonly topic: string;
  private producer?: Producer;

  constructor(
    db: DataSource,
    private readonly kafka: Kafka,
    config: AppConfig,
  ) {
    this.topic = `${config.kafka.eventsTopic}.chain-anchors`;
    this.sealer = new ChainSealer(db, {}, (anchor) => this.publish(anchor));
  }

  onApplicationBootstrap(): void {
    // Sealing needs only PostgreSQL: it starts at once; Kafka being away delays anchors, nothing else.
    this.sealer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sealer.stop();
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async publish(anchor: ChainAnchor): Promise<void> {
    if (!this.producer) {
      const admin = await connectedClient(this.kafka.admin());
      try {
        if (!(await admin.listTopics()).includes(this.topic))
          await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 1 }] });
      } finally {
        await admin.disconnect();
      }
      this.producer = await connectedClient(this.kafka.producer(PRODUCER_CONFIG));
      this.logger.log(`publishing event chain anchors to ${this.topic}`);
    }
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: 'global', value: JSON.stringify({ type: 'EventChainAnchored', ...anchor }) }],
    });
  }
}
