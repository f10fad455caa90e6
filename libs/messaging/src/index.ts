export { createKafka } from './kafka.client';
export { KafkaHealthIndicator } from './kafka.health';
export { MessagingModule } from './messaging.module';
