import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { KafkaHealthIndicator } from '@latchkey/messaging';
import { PostgresHealthIndicator } from '@latchkey/persistence';
import { RedisHealthIndicator } from '@latchkey/jobs';

/** 200 when every dependency answers, 503 naming the ones that do not. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.postgres.check(),
      () => this.redis.check(),
      () => this.kafka.check(),
    ]);
  }
}
