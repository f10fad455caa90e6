import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@latchkey/event-store';
import { applyOnce, applyOrSetAside, KafkaProjectionRunner, toCloudEventMessage } from '@latchkey/messaging';
import { dataSourceOptions, migrate } from '@latchkey/persistence';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../../test/integration-config';
import { signInStreamId } from '../infrastructure/sign-in-recorder';
import { signInActivityProjection } from './sign-in-activity.projection';

describe('sign-in activity, a read model fed from Kafka (real PostgreSQL and broker)', () => {
  const config = integrationConfig();
  const kafka = new Kafka({
    clientId: 'activity-test',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  let db: DataSource;

  beforeAll(async () => {
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
  });
  afterAll(() => db?.destroy());

  const attempt = (tenantId: string, version: number, allowed: boolean, reason?: string): EventEnvelope => ({
    seq: BigInt(version),
    id: randomUUID(),
    streamId: signInStreamId(tenantId, 0),
    version,
    type: allowed ? 'LegacySignInSucceeded' : 'LegacySignInFailed',
    schemaVersion: 1,
    tenantId,
    actor: { kind: 'gateway' },
    causationId: null,
    correlationId: null,
    data: { username: 'alice@contoso.test', reason: reason ?? null, attemptedAt: '2026-03-03T14:02:00.000Z' },
    occurredAt: new Date('2026-03-03T14:02:00.000Z'),
    recordedAt: new Date('2026-03-03T14:02:00.005Z'),
  });

  const activity = async (tenantId: string) =>
    db.query(`SELECT allowed, refused, refused_by_reason FROM sign_in_activity WHERE tenant_id = $1`, [
      tenantId,
    ]);

  it('R9: counts each attempt once, however often an event is applied again', async () => {
    const tenantId = randomUUID();
    const events = [attempt(tenantId, 1, true), attempt(tenantId, 2, false, 'invalid-credentials')];
    for (const event of [...events, ...events, events[0]])
      await applyOnce(db, signInActivityProjection, [event]);
    expect(await activity(tenantId)).toEqual([
      { allowed: 1, refused: 1, refused_by_reason: { 'invalid-credentials': 1 } },
    ]);
  });

  it('an event that is not a readable sign-in record is set aside as a dead letter, and the rest of its batch counted', async () => {
    const tenantId = randomUUID();
    const malformed = { ...attempt(tenantId, 2, true), data: { username: 'alice@contoso.test' } };
    const { applied, setAside } = await applyOrSetAside(db, signInActivityProjection, [
      attempt(tenantId, 1, true),
      malformed,
      attempt(tenantId, 3, false),
    ]);
    expect({ applied, setAside: setAside.map((letter) => letter.eventId) }).toEqual({
      applied: 2,
      setAside: [malformed.id],
    });
    expect(await activity(tenantId)).toEqual([{ allowed: 1, refused: 1, refused_by_reason: {} }]);
    const [letter] = await db.query(
      `SELECT event_type, error FROM projection_dead_letters WHERE projection = $1 AND event_id = $2`,
      [signInActivityProjection.name, malformed.id],
    );
    expect(letter).toEqual({
      event_type: 'LegacySignInSucceeded',
      error: expect.stringContaining('not a readable sign-in record'),
    });
  });

  it('R9: a batch from several lanes counts each attempt once, repeats within it and after it too', async () => {
    const tenantId = randomUUID();
    const lane = (n: number, event: EventEnvelope): EventEnvelope => ({
      ...event,
      streamId: signInStreamId(tenantId, n),
    });
    const first = [
      lane(0, attempt(tenantId, 1, true)),
      lane(1, attempt(tenantId, 1, false, 'invalid-credentials')),
      lane(0, attempt(tenantId, 2, false, 'account-locked')),
      lane(1, attempt(tenantId, 1, false, 'invalid-credentials')), // re-sent within the batch
      lane(1, attempt(tenantId, 2, false, 'invalid-credentials')),
    ];
    expect(await applyOnce(db, signInActivityProjection, first)).toBe(4);
    // The next batch starts with what the relay sent again after a crash, then one new attempt.
    const second = [first[2], first[4], lane(0, attempt(tenantId, 3, false, 'account-locked'))];
    expect(await applyOnce(db, signInActivityProjection, second)).toBe(1);
    expect(await activity(tenantId)).toEqual([
      { allowed: 1, refused: 4, refused_by_reason: { 'invalid-credentials': 2, 'account-locked': 2 } },
    ]);
  });

  it('R9: consumes the topic in a group, skipping a re-sent message', async () => {
    const tenantId = randomUUID();
    const topic = `test-activity-${randomUUID()}`;
    const events = [
      attempt(tenantId, 1, true),
      attempt(tenantId, 2, false, 'account-locked'),
      attempt(tenantId, 3, false, 'account-locked'),
    ];
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // The second message is what a relay sends again after a crash between publish and mark.
    await producer.send({
      topic,
      messages: [events[0], events[1], events[1], events[2]].map((e) => toCloudEventMessage(e, e.data)),
    });
    await producer.disconnect();

    const runner = new KafkaProjectionRunner(db, kafka, signInActivityProjection, {
      topic,
      groupPrefix: `test-${randomUUID()}`,
    });
    runner.start();
    try {
      const deadline = Date.now() + 30_000;
      while ((await activity(tenantId))[0]?.refused !== 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 300)); // room for a wrongful extra count
      expect(await activity(tenantId)).toEqual([
        { allowed: 1, refused: 2, refused_by_reason: { 'account-locked': 2 } },
      ]);
    } finally {
      await runner.stop();
    }
  }, 60_000);
});
