import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { describeFailure, withTimeout } from '@latchkey/runtime';
import { DataSource } from 'typeorm';

/**
 * Up when PostgreSQL answers within the timeout and no migration is pending. It also tells how many
 * events the outbox relay has set aside as too large for Kafka (unpublishable_events): a number that
 * should be 0, for monitoring to alert on, without taking the instance out of service.
 */
@Injectable()
export class PostgresHealthIndicator {
  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'postgres', timeoutMs = 2_000) {
    const indicator = this.health.check(key);
    try {
      const pending = await withTimeout(this.dataSource.showMigrations(), timeoutMs);
      if (pending) return indicator.down({ message: 'migrations pending: run `npm run cli -- migrate`' });
      const [{ n }]: { n: number }[] = await withTimeout(
        this.dataSource.query(`SELECT count(*)::int AS n FROM unpublishable_events`),
        timeoutMs,
      );
      return indicator.up({ unpublishableEvents: n });
    } catch (error) {
      return indicator.down({ message: describeFailure(error) });
    }
  }
}
