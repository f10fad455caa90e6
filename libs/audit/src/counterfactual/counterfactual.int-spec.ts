import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { LatchkeyConfigModule } from '@latchkey/config';
import { directorySyncStreamId, type DirectorySyncEvent } from '@latchkey/directory-sync';
import { PostgresEventStore } from '@latchkey/event-store';
import { migrate, PersistenceModule } from '@latchkey/persistence';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../../test/integration-config';
import { counterfactualRequest } from './counterfactual-request';
import { CounterfactualQueries, type CounterfactualAnswer } from './counterfactual.queries';

const MINUTE = 60_000;
const ACTUAL = { kind: 'fixed', delayMs: 60 * MINUTE, maxDelayMs: 3 * 60 * MINUTE } as const;

/**
 * B5 against the real PostgreSQL: a tenant's history appended as the sync worker and the sign-in
 * recorder append it (directory-sync events under an actual 60-minute delay, sign-in attempts on the
 * tenant's sign-in lanes), then re-run under a shorter and a longer model.
 */
describe('B5: counterfactual replay over the events table (real PostgreSQL)', () => {
  const tenantId = randomUUID();
  const t0 = new Date(Date.UTC(2025, 2, 3, 9, 0, 0));
  const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
  const users = {
    alice: randomUUID(),
    bob: randomUUID(),
    carol: randomUUID(),
    dave: randomUUID(),
    erin: randomUUID(),
  };
  const changes = {
    alice: randomUUID(),
    bob: randomUUID(),
    carol: randomUUID(),
    carolBack: randomUUID(),
    dave: randomUUID(),
    erin: randomUUID(),
  };
  let db: DataSource;
  let store: PostgresEventStore;
  let queries: CounterfactualQueries;
  let close: () => Promise<void>;

  const sync = (event: DirectorySyncEvent, occurredAt: Date) =>
    store.append({
      streamId: directorySyncStreamId(tenantId),
      streamType: 'directory-sync',
      expectedVersion: 'any',
      events: [event],
      context: { tenantId, actor: { kind: 'sync-worker' }, occurredAt },
    });
  const detected = async (
    name: keyof typeof changes,
    userId: string,
    kind: 'disabled' | 'deleted' | 'enabled',
    minutes: number,
    whenChangedMinutes: number | null,
  ) =>
    sync(
      {
        type: 'DirectoryChangeDetected',
        data: {
          tenantId,
          changeId: changes[name],
          passId: randomUUID(),
          objectGuid: randomUUID(),
          kind,
          upn: `${name}@corp.example`,
          previousUpn: null,
          disabled: kind !== 'enabled',
          userId,
          detectedAt: at(minutes).toISOString(),
          whenChanged: whenChangedMinutes === null ? null : at(whenChangedMinutes).toISOString(),
        },
      },
      at(minutes),
    );
  const scheduled = (name: keyof typeof changes, minutes: number) =>
    sync(
      {
        type: 'DirectoryChangeScheduled',
        data: {
          changeId: changes[name],
          dueAt: at(minutes + 60).toISOString(),
          model: ACTUAL,
          reason: 'detected',
        },
      },
      at(minutes),
    );
  const applied = (name: keyof typeof changes, minutes: number) =>
    sync(
      {
        type: 'DirectoryChangeApplied',
        data: { changeId: changes[name], appliedAt: at(minutes).toISOString(), actions: [] },
      },
      at(minutes),
    );
  /** As SignInRecorder writes them: refusals carry no app password id (R9 never says which matched). */
  const signIn = (userId: string, minutes: number, reason: string | null) =>
    store.append({
      streamId: `sign-ins-${tenantId}-${minutes % 2}`,
      streamType: 'sign-ins',
      expectedVersion: 'any',
      events: [
        {
          type: reason === null ? 'LegacySignInSucceeded' : 'LegacySignInFailed',
          occurredAt: at(minutes),
          data: {
            username: `${userId}@corp.example`,
            userId,
            appPasswordId: reason === null ? randomUUID() : null,
            protocol: 'IMAP',
            action: 'sign-in',
            clientIp: '198.51.100.66',
            reason,
            rule: reason === 'account-disabled' ? 'R15' : null,
            attemptedAt: at(minutes).toISOString(),
          },
        },
      ],
      context: { tenantId, actor: { kind: 'gateway' }, occurredAt: at(minutes) },
    });
  const ask = (model: Record<string, unknown>, from = at(-30), to = at(180)) =>
    queries.report(
      tenantId,
      counterfactualRequest.parse({ from: from.toISOString(), to: to.toISOString(), model }),
      at(24 * 60),
    );
  const of = (answer: CounterfactualAnswer, name: keyof typeof changes) =>
    answer.offboardings.find((o) => o.changeId === changes[name])!;

  beforeAll(async () => {
    await migrate(integrationConfig());
    const moduleRef = await Test.createTestingModule({
      imports: [LatchkeyConfigModule.forRoot(), PersistenceModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    db = app.get(DataSource);
    store = new PostgresEventStore(db);
    queries = new CounterfactualQueries(db);
    close = () => app.close();

    // Alice: disabled on premises at -1, seen at 0, landed at 60 (the actual model).
    await detected('alice', users.alice, 'disabled', 0, -1);
    await scheduled('alice', 0);
    for (const m of [10, 40, 55]) await signIn(users.alice, m, null);
    // Refused because the account was disabled: the secret matched an active app password.
    for (const m of [70, 100]) await signIn(users.alice, m, 'account-disabled');
    await applied('alice', 60);
    // Bob: deleted, seen at 60 without whenChanged, landed at 120.
    await detected('bob', users.bob, 'deleted', 60, null);
    await scheduled('bob', 60);
    for (const m of [65, 110]) await signIn(users.bob, m, null);
    // After a deletion the app passwords are revoked: a wrong password looks the same, never counted.
    await signIn(users.bob, 140, 'invalid-credentials');
    await applied('bob', 120);
    // Carol: disabled then enabled again before it landed: not an offboarding.
    await detected('carol', users.carol, 'disabled', 20, 19);
    await scheduled('carol', 20);
    await signIn(users.carol, 25, null);
    await detected('carolBack', users.carol, 'enabled', 30, 29);
    await sync(
      {
        type: 'DirectoryChangeCancelled',
        data: {
          changeId: changes.carol,
          reason: 'no-net-change',
          supersededBy: null,
          cancelledAt: at(30).toISOString(),
        },
      },
      at(30),
    );
    // Dave: offboarded after the period asked about.
    await detected('dave', users.dave, 'disabled', 300, 299);
    await signIn(users.dave, 310, null);
    // Erin: disabled and renamed at 419, seen at 420; the rename was refused (the name was taken), the
    // disable landed with the rest at 480 and the change stayed pending (DirectoryChangePartiallyApplied).
    await detected('erin', users.erin, 'disabled', 420, 419);
    await scheduled('erin', 420);
    await signIn(users.erin, 450, null);
    await sync(
      {
        type: 'DirectoryChangePartiallyApplied',
        data: {
          changeId: changes.erin,
          at: at(480).toISOString(),
          actions: [{ type: 'disable', userId: users.erin }],
          failure: 'user.username-taken',
        },
      },
      at(480),
    );
    await signIn(users.erin, 500, 'account-disabled');
  });
  afterAll(() => close?.());

  it('B5: under the actual model, the replay reproduces the actual windows and sign-ins (no deltas)', async () => {
    const answer = await ask(ACTUAL);
    expect(answer.offboardings.map((o) => o.changeId)).toEqual([changes.alice, changes.bob]);
    expect(of(answer, 'alice')).toMatchObject({
      timeline: {
        whenChanged: at(-1).toISOString(),
        scheduledDueAt: at(60).toISOString(),
        appliedAt: at(60).toISOString(),
      },
      actual: { from: at(-1).toISOString(), until: at(60).toISOString(), windowMs: 61 * MINUTE, signIns: 3 },
      counterfactual: { windowMs: 61 * MINUTE, signIns: 3 },
      windowDeltaMs: 0,
      signInDelta: 0,
    });
    expect(answer.total).toMatchObject({
      offboardings: 2,
      windowDeltaMs: 0,
      signInDelta: 0,
      actualSignIns: 5,
    });
    expect(answer.excluded).toEqual([{ changeId: changes.carol, reason: 'no-net-change' }]);
    expect(answer.reads.changes.truncated).toBe(false);
    expect(answer.reads.signIns.truncated).toBe(false);
  });

  it('B5: a shorter model (15 minutes) closes each window sooner: the later successes would have been refused', async () => {
    const answer = await ask({ kind: 'fixed', delayMs: 15 * MINUTE });
    expect(of(answer, 'alice')).toMatchObject({
      counterfactual: {
        dueAt: at(15).toISOString(),
        until: at(15).toISOString(),
        windowMs: 16 * MINUTE,
        signIns: 1,
      },
      windowDeltaMs: -45 * MINUTE,
      signInDelta: -2,
    });
    expect(of(answer, 'bob')).toMatchObject({
      actual: { windowMs: 60 * MINUTE, signIns: 2 },
      counterfactual: { until: at(75).toISOString(), windowMs: 15 * MINUTE, signIns: 1 },
      windowDeltaMs: -45 * MINUTE,
      signInDelta: -1,
    });
    expect(answer.total).toEqual({
      offboardings: 2,
      actualWindowMs: 121 * MINUTE,
      counterfactualWindowMs: 31 * MINUTE,
      windowDeltaMs: -90 * MINUTE,
      actualSignIns: 5,
      counterfactualSignIns: 2,
      signInDelta: -3,
    });
  });

  it('B5: a longer model (2 hours) keeps each window open longer: refusals for the disabled account would have succeeded', async () => {
    const answer = await ask({ kind: 'fixed', delayMs: 120 * MINUTE });
    expect(of(answer, 'alice')).toMatchObject({
      counterfactual: { until: at(120).toISOString(), windowMs: 121 * MINUTE, signIns: 5 },
      windowDeltaMs: 60 * MINUTE,
      signInDelta: 2,
    });
    // The refusal at 140 after the deletion may have been a wrong password: not counted.
    expect(of(answer, 'bob')).toMatchObject({
      counterfactual: { until: at(180).toISOString(), windowMs: 120 * MINUTE, signIns: 2 },
      windowDeltaMs: 60 * MINUTE,
      signInDelta: 0,
    });
    expect(answer.total).toMatchObject({
      windowDeltaMs: 120 * MINUTE,
      actualSignIns: 5,
      counterfactualSignIns: 7,
      signInDelta: 2,
    });
  });

  it('B5: a change that landed in part, its disable among what landed, closed the window then (regression: it stayed open)', async () => {
    const answer = await ask(ACTUAL, at(400), at(600));
    expect(of(answer, 'erin')).toMatchObject({
      timeline: { appliedAt: at(480).toISOString() },
      actual: { until: at(480).toISOString(), open: false, signIns: 1 },
    });
  });

  it('B5: only offboardings detected inside [from, to) count, and another tenant sees none of them', async () => {
    const answer = await ask({ kind: 'worst-case' }, at(30), at(301));
    expect(answer.offboardings.map((o) => o.changeId)).toEqual([changes.bob, changes.dave]);
    expect(of(answer, 'dave').actual.open).toBe(true);
    const stranger = await queries.report(
      randomUUID(),
      counterfactualRequest.parse({ from: at(-30).toISOString(), to: at(400).toISOString(), model: ACTUAL }),
      at(24 * 60),
    );
    expect(stranger.offboardings).toEqual([]);
  });
});
