import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import { withTimeout } from '@latchkey/runtime';
import Redis from 'ioredis';

/** How long a count may take before this process counts on its own instead. */
const REDIS_TIMEOUT_MS = 500;

/**
 * Rate-limit counts kept in Redis, so that every API instance behind a load balancer enforces one
 * limit per client instead of one each, under `<prefix>:rate-limits:`. While Redis does not answer,
 * each process counts in its own memory: the limit loosens by the number of instances for as long as
 * that lasts, but a leak report (B12) is still taken, and still limited, rather than refused.
 */
export class SharedRateLimitStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('rate-limits');
  private readonly redis: Redis;
  private readonly shared: ThrottlerStorageRedisService;
  private readonly local = new ThrottlerStorageService();
  private onOwnCounts = false;
  /** Counts wait for the first connection, once, for at most REDIS_TIMEOUT_MS; none after that waits. */
  private firstConnection?: Promise<void>;

  constructor(options: { host: string; port: number; prefix: string }) {
    this.redis = new Redis({
      host: options.host,
      port: options.port,
      keyPrefix: `${options.prefix}:rate-limits:`,
      connectionName: 'latchkey-rate-limits',
      // Fail at once while disconnected, and within REDIS_TIMEOUT_MS when Redis hangs: the request
      // is then counted locally instead of waiting.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_TIMEOUT_MS,
    });
    this.redis.on('error', () => undefined); // an outage is logged once, by increment
    this.firstConnection = new Promise<void>((resolve) => this.redis.once('ready', resolve));
    this.shared = new ThrottlerStorageRedisService(this.redis);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    try {
      if (this.firstConnection)
        await withTimeout(this.firstConnection, REDIS_TIMEOUT_MS).finally(
          () => (this.firstConnection = undefined),
        );
      const record = await this.shared.increment(key, ttl, limit, blockDuration, throttlerName);
      if (this.onOwnCounts) this.logger.log('Redis answers again: rate limits are shared again');
      this.onOwnCounts = false;
      return record;
    } catch (error) {
      if (!this.onOwnCounts)
        this.logger.warn(`Redis does not answer, this process counts rate limits alone: ${String(error)}`);
      this.onOwnCounts = true;
      return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
    this.local.onApplicationShutdown();
  }
}
