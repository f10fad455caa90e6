export { connectedClient, createKafka, kafkaLogLine, PRODUCER_CONFIG } from './kafka.client';
export { KafkaHealthIndicator } from './kafka.health';
export { MessagingModule } from './messaging.module';
export { fromCloudEventMessage, toCloudEventMessage } from './cloud-event';
export { OutboxRelay, type OutboxRelayOptions, type PublicView } from './outbox-relay';
export { applyOnce, applyOrSetAside, KafkaProjectionRunner, type KafkaProjection } from './kafka-projection';
