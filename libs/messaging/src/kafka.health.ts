import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { describeFailure, withTimeout } from '@latchkey/runtime';
import { Kafka, type Admin } from 'kafkajs';

/** Up when the cluster answers a metadata request and names a controller. */
@Injectable()
export class KafkaHealthIndicator implements OnModuleDestroy {
  private admin?: Admin;

  constructor(
    private readonly kafka: Kafka,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'kafka', timeoutMs = 3_000) {
    const indicator = this.health.check(key);
    try {
      const cluster = await withTimeout(this.describe(), timeoutMs);
      return indicator.up({ brokers: cluster.brokers.length, controller: cluster.controller });
    } catch (error) {
      // Start from a fresh connection next time rather than reuse one kafkajs may still be retrying.
      await this.disconnect();
      return indicator.down({ message: describeFailure(error) });
    }
  }

  private async describe() {
    if (!this.admin) {
      this.admin = this.kafka.admin({ retry: { retries: 0 } });
      await this.admin.connect();
    }
    return this.admin.describeCluster();
  }

  private async disconnect() {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  async onModuleDestroy() {
    await this.disconnect();
  }
}
