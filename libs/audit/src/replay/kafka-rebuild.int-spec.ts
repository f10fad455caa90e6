import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import {
  AppPasswordsModule,
  CreateAppPasswordCommand,
  RunTenantCommand,
  RunUserCommand,
  signInActivityProjection,
  type CreatedAppPassword,
} from '@latchkey/app-passwords';
import type { EventEnvelope } from '@latchkey/event-store';
import { applyOnce, KafkaProjectionRunner, toCloudEventMessage } from '@latchkey/messaging';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { startIntegrationApp } from '../../../../test/integration-app';
import { integrationConfig } from '../../../../test/integration-config';
import { inReplayDatabase } from './testing/replay-database';
import { rebuildFromKafka } from './kafka-rebuild';

const DAY = 86_400_000;

describe('replay: rebuilding the Kafka-fed read models from the topic (real PostgreSQL and broker)', () => {
  afterAll(inReplayDatabase());
  const config = integrationConfig();
  const kafka = new Kafka({
    clientId: 'replay-test',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  });
  const tenantId = randomUUID();
  const topic = `test-replay-${randomUUID()}`;
  const versions = new Map<string, number>();
  const produced: EventEnvelope[] = [];
  const unreadable = new Set<string>();
  /** Two app passwords of one user: the successes name them in turn (last use, B7). */
  const appPasswordIds: string[] = [];
  let db: DataSource;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = await startIntegrationApp(AppPasswordsModule);
    close = () => app.close();
    db = app.get(DataSource);
    // This suite's database holds only what its tests write: the live model starts empty.
    await db.query(`TRUNCATE sign_in_activity, credential_usage`);
    await db.query(`DELETE FROM projection_stream_positions WHERE projection = 'sign-in-activity'`);
    const commands = app.get(CommandBus);
    const context = { tenantId, actor: { kind: 'admin' as const, id: 'test-admin' } };
    const userId = randomUUID();
    await commands.execute(
      new RunTenantCommand(
        { type: 'CreateTenant', data: { tenantId, name: 'Contoso', policy: { appPasswordsAllowed: true } } },
        context,
      ),
    );
    for (const command of [
      {
        type: 'ProvisionUser',
        data: {
          tenantId,
          userId,
          username: 'user0@contoso.test',
          source: 'cloud',
          mfa: 'enforced',
          origin: 'admin',
        },
      },
      { type: 'CompleteMfaRegistration', data: { tenantId, userId } },
    ] as const)
      await commands.execute(new RunUserCommand(command, context));
    for (const name of ['Laptop', 'Phone']) {
      const created: CreatedAppPassword = await commands.execute(
        new CreateAppPasswordCommand(tenantId, userId, name, undefined, {
          tenantId,
          actor: { kind: 'user', id: userId },
        }),
      );
      appPasswordIds.push(created.appPasswordId);
    }
  });
  afterAll(() => close?.());

  /** Attempts on `lane`, made on `attemptedAt` and published at `publishedAt` (a late one: later). */
  async function publish(
    lane: number,
    attempts: { at: Date; publishedAt?: Date; allowed: boolean; malformed?: boolean }[],
  ) {
    const streamId = `sign-ins-${tenantId}-${lane}`;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = attempts.map(({ at, publishedAt, allowed, malformed }, i) => {
      const version = (versions.get(streamId) ?? 0) + 1;
      versions.set(streamId, version);
      const event: EventEnvelope = {
        seq: BigInt(produced.length + 1),
        id: randomUUID(),
        streamId,
        version,
        type: allowed ? 'LegacySignInSucceeded' : 'LegacySignInFailed',
        schemaVersion: 1,
        tenantId,
        actor: { kind: 'gateway' },
        causationId: null,
        correlationId: null,
        data: {
          username: `user${i % 3}@contoso.test`,
          reason: allowed ? null : i % 2 ? 'invalid-credentials' : 'account-locked',
          attemptedAt: at.toISOString(),
          appPasswordId: allowed ? appPasswordIds[i % 2] : null,
          clientIp: `192.0.2.${1 + (produced.length % 200)}`,
          protocol: i % 2 ? 'IMAP' : 'SMTP',
        },
        occurredAt: at,
        recordedAt: at,
      };
      // Not a sign-in record this code can read: the live model sets it aside, a rebuild skips it.
      if (malformed) {
        event.data = { username: 'mallory@contoso.test' };
        unreadable.add(event.id);
      }
      produced.push(event);
      return { ...toCloudEventMessage(event, event.data), timestamp: String((publishedAt ?? at).getTime()) };
    });
    await producer.send({ topic, messages });
    await producer.disconnect();
  }

  const days = (n: number) =>
    Array.from({ length: 20 }, (_, i) => new Date(Date.now() - n * DAY + i * 1_000));

  /** Every produced event counted once, by the projection itself, into a scratch schema. */
  async function reference(): Promise<void> {
    await db.query(`DROP SCHEMA IF EXISTS replay_kafka_reference CASCADE`);
    await db.query(`CREATE SCHEMA replay_kafka_reference`);
    for (const table of ['sign_in_activity', 'credential_usage', 'projection_stream_positions']) {
      await db.query(`CREATE TABLE replay_kafka_reference.${table} (LIKE public.${table} INCLUDING ALL)`);
    }
    const inScratch = {
      transaction: <T>(work: (tx: DataSource['manager']) => Promise<T>) =>
        db.transaction(async (tx) => {
          await tx.query(`SET LOCAL search_path = replay_kafka_reference, public`);
          return work(tx);
        }),
    } as unknown as DataSource;
    await applyOnce(
      inScratch,
      signInActivityProjection,
      produced.filter((event) => !unreadable.has(event.id)),
    );
  }

  const differences = () =>
    db.query(
      `SELECT to_jsonb(l) AS live, to_jsonb(r) AS reference FROM public.sign_in_activity l
       FULL JOIN replay_kafka_reference.sign_in_activity r USING (tenant_id, username, day)
       WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(r)
       UNION ALL
       SELECT to_jsonb(l), to_jsonb(r) FROM public.projection_stream_positions l
       FULL JOIN replay_kafka_reference.projection_stream_positions r USING (projection, stream_id)
       WHERE l.projection = 'sign-in-activity' AND to_jsonb(l) IS DISTINCT FROM to_jsonb(r)
       UNION ALL
       SELECT to_jsonb(l), to_jsonb(r) FROM public.credential_usage l
       FULL JOIN replay_kafka_reference.credential_usage r USING (app_password_id)
       WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(r)`,
    );

  async function settled(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const positions: { stream_id: string; version: number }[] = await db.query(
        `SELECT stream_id, version FROM projection_stream_positions WHERE projection = 'sign-in-activity'`,
      );
      const at = new Map(positions.map((p) => [p.stream_id, p.version]));
      if ([...versions].every(([stream, version]) => at.get(stream) === version)) return;
      if (Date.now() > deadline) throw new Error('the live consumer did not catch up');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const live = () =>
    new KafkaProjectionRunner(db, kafka, signInActivityProjection, {
      topic,
      groupPrefix: `test-${randomUUID()}`,
    });

  it('from the beginning, with a fresh group, while attempts keep coming: equals the live model', async () => {
    await publish(
      0,
      days(3).map((at, i) => ({ at, allowed: i % 4 !== 0, malformed: i === 5 })),
    );
    await publish(
      1,
      days(2).map((at, i) => ({ at, allowed: i % 3 !== 0 })),
    );
    await publish(
      0,
      days(0).map((at, i) => ({ at, allowed: i % 2 === 0 })),
    );
    const runner = live();
    runner.start();
    try {
      await settled();
      let stop = false;
      const more = (async () => {
        for (let n = 0; !stop; n++) {
          await publish(n % 2, [{ at: new Date(), allowed: n % 5 !== 0 }]);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const result = await rebuildFromKafka(db, kafka, { topic, groupPrefix: `test-${randomUUID()}` });
      stop = true;
      await more;
      expect(result.messages).toBeGreaterThanOrEqual(60);
      await settled();
      await reference();
      expect(await differences()).toEqual([]);
      // The rebuilt model has this suite's rows (comparing two empty tables would prove nothing).
      const [{ rows }] = await db.query(
        `SELECT count(*)::int AS rows FROM sign_in_activity WHERE tenant_id = $1`,
        [tenantId],
      );
      expect(rows).toBeGreaterThanOrEqual(9);
      // ...and last use (B7) of both app passwords, rebuilt under the same positions.
      const [{ used }] = await db.query(
        `SELECT count(*)::int AS used FROM credential_usage WHERE app_password_id = ANY($1::uuid[]) AND uses > 0`,
        [appPasswordIds],
      );
      expect(used).toBe(2);
      const admin = kafka.admin();
      await admin.connect();
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
      await admin.disconnect();
      expect(groups).not.toContain(result.groupId);
    } finally {
      await runner.stop();
    }
  }, 120_000);

  it('from a timestamp: later days from the topic, earlier ones kept, a late attempt of an earlier day counted once, last use merged', async () => {
    const runner = live();
    runner.start();
    await settled();
    await runner.stop();
    // Published today, attempted two days ago: the live consumer is stopped, so it has not counted it.
    // A late success of that day too: it adds to its app password's uses, not to its last use.
    await publish(1, [
      { at: new Date(Date.now() - 2 * DAY + 30_000), publishedAt: new Date(), allowed: false },
      { at: new Date(Date.now() - 2 * DAY + 31_000), publishedAt: new Date(), allowed: true },
    ]);
    await publish(0, [{ at: new Date(), allowed: true }]);
    const result = await rebuildFromKafka(db, kafka, {
      topic,
      groupPrefix: `test-${randomUUID()}`,
      from: new Date(Date.now() - DAY),
    });
    // Only messages published since yesterday began: today's and the late ones, not the older days'.
    expect(result.messages).toBeLessThan(produced.length - 30);
    // Last use: the newest success, not the late one published last.
    const newest = (id: string) =>
      Math.max(
        ...produced
          .filter((e) => (e.data as { appPasswordId: string | null }).appPasswordId === id)
          .map((e) => e.occurredAt.getTime()),
      );
    const usage: { id: string; last: Date }[] = await db.query(
      `SELECT app_password_id AS id, last_used_at AS last FROM credential_usage
       WHERE app_password_id = ANY($1::uuid[]) ORDER BY app_password_id`,
      [appPasswordIds],
    );
    expect(usage.map((u) => u.last.getTime() === newest(u.id))).toEqual([true, true]);
    const again = live();
    again.start();
    try {
      await settled();
      await reference();
      expect(await differences()).toEqual([]);
    } finally {
      await again.stop();
    }
  }, 120_000);
});
