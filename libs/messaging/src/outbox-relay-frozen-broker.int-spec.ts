import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresEventStore, type EventEnvelope } from '@latchkey/event-store';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../test/integration-config';
import { OutboxRelay } from './outbox-relay';
import { createTopic, publishedVersions, TestStream, until } from './testing/test-stream';

/**
 * Fault: the broker freezes (a long GC pause, a VM stalled) while a batch is on the wire. The relay
 * gives up waiting, but the broker still reads and writes that batch when it wakes. The idempotent
 * producer's sequence numbers no longer match what the broker holds, and a relay that kept the same
 * producer would be refused (OUT_OF_ORDER_SEQUENCE_NUMBER) forever. Nothing may be lost.
 */
describe('OutboxRelay across a frozen broker (real broker stopped with SIGSTOP)', () => {
  const config = integrationConfig();
  const stackDir = process.env.STACK_DIR ?? join(__dirname, '../../../.stack');
  // The stack's own broker (stack/stack.sh up kafka), stopped and resumed by its pid.
  const brokerPid = () => Number(readFileSync(join(stackDir, 'kafka/kafka.pid'), 'utf8').trim());
  // The relay's client gives up on a request after one second, so the test needs no long freeze.
  const relayKafka = new Kafka({
    clientId: 'frozen-broker-test',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
    requestTimeout: 1_000,
    connectionTimeout: 1_000,
    retry: { initialRetryTime: 100, retries: 1 },
  });
  const kafka = new Kafka({
    clientId: 'frozen-broker-reader',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = `test-frozen-${randomUUID()}`;
  let db: DataSource;
  let stream: TestStream;
  let relay: OutboxRelay;
  let frozen: number | undefined;

  const thaw = () => {
    if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
    frozen = undefined;
  };

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
    stream = new TestStream(new PostgresEventStore(db), db);
    await createTopic(kafka, topic, 1);
    relay = new OutboxRelay(db, relayKafka, (e: EventEnvelope) => e.data, {
      topic,
      idlePollMs: 20,
      backoffMs: 100,
      maxBackoffMs: 500,
    });
    relay.start();
  });

  afterAll(async () => {
    thaw();
    await relay?.stop();
    await db?.destroy();
  });

  it('publishes everything once the broker wakes, although it wrote a batch the relay gave up on', async () => {
    await stream.append(2);
    await until('the first events to be published', async () => (await stream.unpublished()) === 0, 60_000);

    frozen = brokerPid();
    process.kill(frozen, 'SIGSTOP');
    // Should this test's process die before thawing it, the shared broker must not stay frozen.
    spawn('bash', ['-c', `sleep 30; kill -CONT ${frozen}`], { detached: true, stdio: 'ignore' }).unref();
    await stream.append(3); // sent, never answered: the broker reads this batch only when it wakes
    await new Promise((r) => setTimeout(r, 400));
    await stream.append(3); // the next attempt carries more than the batch the broker is about to write
    await new Promise((r) => setTimeout(r, 4_000));
    thaw();

    await until('the backlog to be published', async () => (await stream.unpublished()) === 0, 30_000);

    const versions = await publishedVersions(kafka, topic, stream.streamId, (seen) => seen.length === 8);
    expect(versions.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // Stopped, the relay leaves no connection to the broker behind: the attempts to connect while
    // the broker was frozen (TCP accepted, never answered) would otherwise stay open for minutes.
    await relay.stop();
    const brokerPort = Number(config.kafka.brokers[0].split(':').pop());
    const handles = (
      process as unknown as { _getActiveHandles(): { remotePort?: number }[] }
    )._getActiveHandles();
    expect(handles.filter((handle) => handle.remotePort === brokerPort)).toEqual([]);
  }, 120_000);
});
