import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DirectoryHealthIndicator } from '@latchkey/directory';
import { RedisHealthIndicator } from '@latchkey/jobs';
import { KafkaHealthIndicator } from '@latchkey/messaging';
import { PostgresHealthIndicator } from '@latchkey/persistence';

/** The worker depends on the directory too: it is the one process that reads it. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
    private readonly directory: DirectoryHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.postgres.check(),
      () => this.redis.check(),
      () => this.kafka.check(),
      () => this.directory.check(),
    ]);
  }
}
