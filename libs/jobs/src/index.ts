export { JobsModule } from './jobs.module';
export { RedisHealthIndicator } from './redis.health';
