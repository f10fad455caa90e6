import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '@latchkey/config';
import { describeFailure, withTimeout } from '@latchkey/runtime';
import Redis from 'ioredis';

/** Up when Redis answers PING. Its own connection, which never queues commands while Redis is away. */
@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(
    config: AppConfig,
    private readonly health: HealthIndicatorService,
  ) {
    this.redis = new Redis({
      host: config.redis.host,
      port: config.redis.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: 'latchkey-health',
    });
    this.redis.on('error', () => undefined); // reported by check(), not as an unhandled event
  }

  async check(key = 'redis', timeoutMs = 2_000) {
    const indicator = this.health.check(key);
    try {
      if (this.redis.status === 'wait' || this.redis.status === 'end')
        await withTimeout(this.redis.connect(), timeoutMs);
      await withTimeout(this.redis.ping(), timeoutMs);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: describeFailure(error) });
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
