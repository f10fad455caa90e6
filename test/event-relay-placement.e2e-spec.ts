// EVENT_RELAY_IN=sync-worker: the API leaves the outbox relay and the Kafka read models to the sync
// worker (its event loop then serves requests only); the worker publishes what the API appended.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@latchkey/persistence';
import { ApiClient } from './api-client';
import { startAppAndWait, type RunningApp } from './app-process';
import { integrationConfig } from './integration-config';
import { ensureTestKeys, mintToken } from './tokens';

jest.setTimeout(90_000);

const API_PORT = 3296;
const WORKER_PORT = 3297;
const suffix = randomUUID().slice(0, 8);
const env = {
  EVENT_RELAY_IN: 'sync-worker',
  KAFKA_EVENTS_TOPIC: `latchkey.test.relay-placement-${suffix}`,
  KAFKA_CLIENT_ID: `latchkey-test-relay-${suffix}`,
  REDIS_PREFIX: `latchkey-relay-placement-${suffix}`,
};

describe('where the outbox relay runs (EVENT_RELAY_IN)', () => {
  const running: RunningApp[] = [];
  let db: DataSource;

  beforeAll(async () => {
    ensureTestKeys();
    db = await new DataSource(dataSourceOptions(integrationConfig())).initialize();
  });
  afterAll(async () => {
    for (const app of running) if (app.child.exitCode === null) app.child.kill('SIGTERM');
    await Promise.all(running.map((app) => app.exited));
    await db?.destroy();
  });

  async function start(app: 'api' | 'sync-worker', extra: Record<string, string>, health: string) {
    running.push(await startAppAndWait(app, { ...env, ...extra }, health));
  }

  const unpublished = async (tenantId: string): Promise<number> => {
    const [{ count }] = await db.query(
      `SELECT count(*)::int AS count FROM outbox o JOIN events e ON e.seq = o.event_seq WHERE e.tenant_id = $1`,
      [tenantId],
    );
    return count;
  };

  it('sync-worker: the API appends and never publishes; the worker publishes it', async () => {
    await start('api', { API_PORT: String(API_PORT) }, `http://127.0.0.1:${API_PORT}/health`);
    const tenantId = randomUUID();
    const admin = await mintToken({ tenantId, sub: 'relay-admin', roles: ['tenant-admin'] });
    const created = await new ApiClient(API_PORT).post('/v1/tenant', admin, { name: 'Relay placement' });
    expect(created.status).toBe(201);

    // Well past the relay's idle poll (50 ms): with the relay in the API it would be gone by now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await unpublished(tenantId)).toBeGreaterThan(0);

    await start(
      'sync-worker',
      { WORKER_HEALTH_PORT: String(WORKER_PORT), SYNC_POLL_INTERVAL_MS: '3600000' },
      `http://127.0.0.1:${WORKER_PORT}/health`,
    );
    const deadline = Date.now() + 30_000;
    while ((await unpublished(tenantId)) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await unpublished(tenantId)).toBe(0);

    const kafka = new Kafka({ brokers: integrationConfig().kafka.brokers, logLevel: logLevel.NOTHING });
    const admin2 = kafka.admin();
    await admin2.connect();
    try {
      const offsets = await admin2.fetchTopicOffsets(env.KAFKA_EVENTS_TOPIC);
      expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBeGreaterThan(0);
    } finally {
      await admin2.disconnect();
    }
  });
});
