import { Kafka, logLevel } from 'kafkajs';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../../test/integration-config';
import { EventRelay } from './event-relay';

/**
 * Shutdown while the relay is still checking its topic with the broker away (real PostgreSQL; a
 * port where no broker listens): the relay must not start once the application has stopped it.
 */
describe('EventRelay shut down before the broker answered', () => {
  const config = integrationConfig();
  let db: DataSource;

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
  });
  afterAll(() => db?.destroy());

  it('does not start relaying after the shutdown that came during its topic check', async () => {
    const absent = new Kafka({
      clientId: 'relay-shutdown-test',
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 200,
      retry: { retries: 2, initialRetryTime: 100 },
    });
    const relayConfig = { ...config, kafka: { ...config.kafka, relayIn: 'api' as const } };
    // Told when the topic check has given up: only after that could a relay start.
    let checked!: () => void;
    const checkEnded = new Promise<void>((resolve) => (checked = resolve));
    const admin = absent.admin.bind(absent);
    absent.admin = (...args) => {
      const client = admin(...args);
      const connect = client.connect.bind(client);
      client.connect = () => connect().finally(() => setImmediate(checked));
      return client;
    };
    const relay = new EventRelay(db, absent, relayConfig, 'api');
    relay.onApplicationBootstrap();
    await relay.beforeApplicationShutdown();
    await checkEnded;
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Looked at from inside: nothing outside tells a relay that never started from one that found
    // the outbox empty.
    const inner = (relay as unknown as { relay: { loop: { running: boolean } } }).relay;
    expect(inner.loop.running).toBe(false);
  }, 20_000);
});
