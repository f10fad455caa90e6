import { Kafka, logLevel, Partitioners, type LogEntry, type ProducerConfig } from 'kafkajs';
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

/**
 * Our producers: idempotent with one request in flight, so the broker drops a retried duplicate and
 * keeps each partition in order, and the partitioner named (kafkajs's default since 2.0, the Java
 * client's murmur2), which also spares every start a warning about the default having changed.
 */
export const PRODUCER_CONFIG: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
};

/**
 * Connects a kafkajs client, and disconnects it when that fails: a broker that accepted the TCP
 * connection but never answered (frozen, overloaded) otherwise leaves the socket open, one per
 * attempt, and keeps the process from exiting until the broker drops idle connections, minutes later.
 */
export async function connectedClient<
  Client extends { connect(): Promise<void>; disconnect(): Promise<void> },
>(client: Client): Promise<Client> {
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.disconnect().catch(() => undefined);
    throw error;
  }
}

/**
 * What of kafkajs's log is worth an operator's attention, and at which level; null for nothing.
 * - "Response <request>" errors say one request failed; kafkajs retries what can be retried (a broker
 *   that has just started answers "the coordinator is loading" for a moment), and what fails for good
 *   reaches our code, which logs it as an error. So they are warnings, with kafkajs's reason, which
 *   its message alone leaves out.
 * - The warning that limited retries "may invalidate EoS guarantees" is our choice, made on purpose:
 *   the relay sends a failed batch again and consumers drop what they already applied.
 */
export function kafkaLogLine(entry: LogEntry): { level: 'error' | 'warn'; text: string } | null {
  const { message, error } = entry.log;
  if (message.startsWith('Limiting retries for the idempotent producer')) return null;
  const text = typeof error === 'string' && error.length > 0 ? `${message}: ${error}` : message;
  if (message.startsWith('Response ')) return { level: 'warn', text };
  return { level: entry.level === logLevel.ERROR ? 'error' : 'warn', text };
}
