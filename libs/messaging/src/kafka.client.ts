import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { ParsedConfig } from '@latchkey/config';

/**
 * One kafkajs client per process. kafkajs logs through its own logger; route it through Nest's
 * format and keep only warnings and errors, which never carry message payloads.
 */
export function createKafka(
  config: Pick<ParsedConfig, 'kafka'>,
  log: (entry: LogEntry) => void = () => undefined,
) {
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => log,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}
