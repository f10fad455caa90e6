import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { describeFailure, withTimeout } from '@latchkey/runtime';
import { DataSource } from 'typeorm';

/** Up when PostgreSQL answers within the timeout and no migration is pending. */
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
      return pending
        ? indicator.down({ message: 'migrations pending: run `npm run cli -- migrate`' })
        : indicator.up();
    } catch (error) {
      return indicator.down({ message: describeFailure(error) });
    }
  }
}
