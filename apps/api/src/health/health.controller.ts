import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '@latchkey/access';
import { KafkaHealthIndicator } from '@latchkey/messaging';
import { PostgresHealthIndicator } from '@latchkey/persistence';
import { RedisHealthIndicator } from '@latchkey/jobs';

/** 200 when every dependency answers, 503 naming the ones that do not. Public: probes have no token. */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
  ) {}

  @Get()
  @HealthCheck({ swaggerDocumentation: false }) // failures are problem+json, not terminus's body
  check() {
    return this.health.check([
      () => this.postgres.check(),
      () => this.redis.check(),
      () => this.kafka.check(),
    ]);
  }
}
