import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import {
  AppPasswordsModule,
  CreateAppPasswordCommand,
  CredentialsProjection,
  DomainError,
  RunTenantCommand,
  RunUserCommand,
  signInActivityProjection,
  VerifySignIn,
  type CreatedAppPassword,
  type SignInVerdict,
  type UserCommandRequest,
} from '@latchkey/app-passwords';
import { eventColumns, toEnvelope, type EventRow } from '@latchkey/event-store';
import { applyOnce } from '@latchkey/messaging';
import { DataSource } from 'typeorm';
import { startIntegrationApp } from '../../../../test/integration-app';
import { inReplayDatabase } from './testing/replay-database';
import { createStaging, CREDENTIAL_TYPES, projectStagedBatch, STAGING } from './batch-projection';
import { rebuildReadModels } from './event-store-rebuild';
import { MODEL_TABLES, REBUILDABLE_MODELS, tablesOf } from './read-models';
import { TableCopies } from './table-swap';

const ALL_TABLES = tablesOf([...REBUILDABLE_MODELS]);
const KEYS: Record<string, string> = {
  tenants: 'tenant_id',
  accounts: 'user_id',
  credentials: 'app_password_id',
  credential_usage: 'app_password_id',
  sign_in_activity: 'tenant_id, username, day',
  projection_stream_positions: 'projection, stream_id',
};

describe('replay: rebuilding read models from the event store (real PostgreSQL)', () => {
  afterAll(inReplayDatabase());
  let commands: CommandBus;
  let db: DataSource;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = await startIntegrationApp(AppPasswordsModule);
    commands = app.get(CommandBus);
    db = app.get(DataSource);
    close = () => app.close();
  });
  afterAll(() => close?.());

  const admin = (tenantId: string) => ({ tenantId, actor: { kind: 'admin' as const, id: 'test-admin' } });
  const user = (tenantId: string, command: UserCommandRequest) =>
    commands.execute(new RunUserCommand(command, admin(tenantId)));
  const hr = (tenantId: string, command: UserCommandRequest) =>
    commands.execute(new RunUserCommand(command, { tenantId, actor: { kind: 'hr', id: 'test-hr' } }));
  const policy = (tenantId: string, patch: Record<string, unknown>) =>
    commands.execute(
      new RunTenantCommand({ type: 'ChangeTenantPolicy', data: { tenantId, patch } }, admin(tenantId)),
    );
  const create = (tenantId: string, userId: string, name: string, protocols?: string[]) =>
    commands.execute<CreateAppPasswordCommand, CreatedAppPassword>(
      new CreateAppPasswordCommand(tenantId, userId, name, protocols, {
        tenantId,
        actor: { kind: 'user', id: userId },
      }),
    );
  const verify = (tenantId: string, username: string, password: string, clientIp = '192.0.2.10') =>
    commands.execute<VerifySignIn, SignInVerdict>(
      new VerifySignIn(tenantId, username, password, 'IMAP', 'sign-in', clientIp),
    );

  async function tenant(): Promise<string> {
    const tenantId = randomUUID();
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: {
            tenantId,
            name: 'Contoso',
            policy: { appPasswordsAllowed: true, fastPathOffboarding: true },
          },
        },
        admin(tenantId),
      ),
    );
    return tenantId;
  }

  async function mfaUser(tenantId: string) {
    const userId = randomUUID();
    const username = `u-${userId.slice(0, 8)}@contoso.test`;
    await user(tenantId, {
      type: 'ProvisionUser',
      data: { tenantId, userId, username, source: 'cloud', mfa: 'enforced', origin: 'admin' },
    });
    await user(tenantId, { type: 'CompleteMfaRegistration', data: { tenantId, userId } });
    return { userId, username };
  }

  /**
   * A history with every kind of change the credentials model records: policy changes, renames,
   * disable/enable, delete, revocations (one by one, all at once, on password reset), MFA and
   * modern-auth changes, suspensions, and sign-ins (usage, activity).
   */
  async function varietyHistory(): Promise<string> {
    const tenantId = await tenant();
    await policy(tenantId, { maxAppPasswordsPerUser: 10 });
    const [a, b, c] = [await mfaUser(tenantId), await mfaUser(tenantId), await mfaUser(tenantId)];
    const pa = [
      await create(tenantId, a.userId, 'Laptop'),
      await create(tenantId, a.userId, 'Phone', ['IMAP']),
    ];
    const pb = [await create(tenantId, b.userId, 'Tablet'), await create(tenantId, b.userId, 'Desk')];
    await create(tenantId, c.userId, 'Old phone');
    await verify(tenantId, a.username, pa[0].password, '192.0.2.1');
    await verify(tenantId, a.username, pa[0].password, '192.0.2.2');
    await verify(tenantId, a.username, 'lkaa aaaa aaaa aaaa aaaa aaaa');
    await verify(tenantId, 'nobody@contoso.test', pa[1].password);
    await user(tenantId, {
      type: 'DeleteAppPassword',
      data: { tenantId, userId: a.userId, appPasswordId: pa[1].appPasswordId, by: 'admin' },
    });
    const renamed = `renamed-${randomUUID().slice(0, 8)}@contoso.test`;
    await user(tenantId, {
      type: 'RenameUser',
      data: { tenantId, userId: a.userId, username: renamed, origin: 'admin' },
    });
    await verify(tenantId, renamed, pa[0].password, '192.0.2.3');
    await user(tenantId, { type: 'DisableUser', data: { tenantId, userId: b.userId, origin: 'admin' } });
    await verify(tenantId, b.username, pb[0].password);
    await user(tenantId, { type: 'EnableUser', data: { tenantId, userId: b.userId, origin: 'admin' } });
    await user(tenantId, { type: 'SetMfaState', data: { tenantId, userId: b.userId, mfa: 'enabled' } });
    await user(tenantId, {
      type: 'SetModernAuthRequirement',
      data: { tenantId, userId: b.userId, requiresModernAuth: true },
    });
    await user(tenantId, {
      type: 'SetModernAuthRequirement',
      data: { tenantId, userId: b.userId, requiresModernAuth: false },
    });
    await hr(tenantId, {
      type: 'SuspendSignIns',
      data: { tenantId, userId: b.userId, origin: 'hr', reason: 'offboarding' },
    });
    await user(tenantId, { type: 'ResumeSignIns', data: { tenantId, userId: b.userId, origin: 'admin' } });
    await hr(tenantId, {
      type: 'SuspendSignIns',
      data: { tenantId, userId: a.userId, origin: 'hr', reason: 'offboarding' },
    });
    await user(tenantId, { type: 'ResetPassword', data: { tenantId, userId: b.userId, origin: 'admin' } });
    await policy(tenantId, { revokeOnPasswordReset: true });
    await user(tenantId, { type: 'ResetPassword', data: { tenantId, userId: b.userId, origin: 'admin' } });
    await create(tenantId, c.userId, 'New phone');
    await user(tenantId, { type: 'DeleteAllAppPasswords', data: { tenantId, userId: c.userId } });
    await user(tenantId, { type: 'DeleteUser', data: { tenantId, userId: c.userId, origin: 'admin' } });
    // A deleted user's name may be given again.
    await user(tenantId, {
      type: 'ProvisionUser',
      data: {
        tenantId,
        userId: randomUUID(),
        username: c.username,
        source: 'cloud',
        mfa: 'enabled',
        origin: 'admin',
      },
    });
    return tenantId;
  }

  /** Empty copies of the read-model tables (with all their indexes) in a scratch schema. */
  async function scratch(schema: string): Promise<void> {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.query(`CREATE SCHEMA ${schema}`);
    for (const table of ALL_TABLES) {
      await db.query(`CREATE TABLE ${schema}.${table} (LIKE public.${table} INCLUDING ALL)`);
    }
  }

  /** Every event, in sequence order, in `size`d windows, through `apply` with `schema` first in the path. */
  async function replayInto(
    schema: string,
    size: number,
    apply: (run: { query: DataSource['query']; manager: DataSource['manager'] }) => Promise<void>,
  ): Promise<void> {
    const runner = db.createQueryRunner();
    await runner.connect();
    try {
      await createStaging(runner);
      const [{ max }] = await runner.query(`SELECT coalesce(max(seq), 0)::int AS max FROM events`);
      for (let after = 0; after < max; after += size) {
        await runner.query('BEGIN');
        await runner.query(`SET LOCAL search_path = ${schema}, public`);
        await runner.query(`TRUNCATE ${STAGING}`);
        await runner.query(
          `INSERT INTO ${STAGING} SELECT seq, stream_id, version, type, tenant_id, data, occurred_at
           FROM public.events WHERE seq > $1 AND seq <= $2`,
          [after, after + size],
        );
        await apply({ query: (sql, params) => runner.query(sql, params), manager: runner.manager });
        await runner.query('COMMIT');
      }
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /**
   * The reference: the inline projection event by event, then usage and activity through applyOnce
   * of the Kafka projection itself (not the batch statements the rebuild runs).
   */
  async function fromScratch(schema: string): Promise<void> {
    await scratch(schema);
    const projection = new CredentialsProjection();
    await replayInto(schema, 500, async ({ query, manager }) => {
      const rows: EventRow[] = await query(
        `SELECT ${eventColumns('e')} FROM public.events e
         WHERE e.seq IN (SELECT seq FROM ${STAGING} WHERE type = ANY($1)) ORDER BY e.seq`,
        [CREDENTIAL_TYPES],
      );
      await projection.apply(manager, rows.map(toEnvelope));
    });
    // The Kafka projection itself, fed every sign-in event once, in order (as the topic would).
    const rows: EventRow[] = await db.query(
      `SELECT ${eventColumns()} FROM events WHERE type LIKE 'LegacySignIn%' ORDER BY seq`,
    );
    const inScratch = {
      transaction: <T>(work: (tx: DataSource['manager']) => Promise<T>) =>
        db.transaction(async (tx) => {
          await tx.query(`SET LOCAL search_path = ${schema}, public`);
          return work(tx);
        }),
    } as unknown as DataSource;
    for (let i = 0; i < rows.length; i += 1_000) {
      await applyOnce(inScratch, signInActivityProjection, rows.slice(i, i + 1_000).map(toEnvelope));
    }
  }

  /** Rows that differ (or exist on one side only) between two schemas' copies of a table. */
  async function differences(left: string, right: string, table: string): Promise<unknown[]> {
    return db.query(
      `SELECT to_jsonb(l) AS left, to_jsonb(r) AS right FROM ${left}.${table} l
       FULL JOIN ${right}.${table} r USING (${KEYS[table]})
       WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(r) LIMIT 5`,
    );
  }

  it('the batch statements list exactly the event types of the inline projection', async () => {
    const { TENANT_EVENT_TYPES, USER_EVENT_TYPES } = await import('@latchkey/app-passwords');
    expect([...CREDENTIAL_TYPES].sort()).toEqual([...TENANT_EVENT_TYPES, ...USER_EVENT_TYPES].sort());
  });

  it('the set-based batch projection writes what the inline projections write, whatever the batch size', async () => {
    const tenantId = await varietyHistory();
    await fromScratch('replay_reference');
    // The reference has this history's rows (a test that compared two empty tables would prove nothing).
    const [counts] = await db.query(
      `SELECT (SELECT count(*) FROM replay_reference.accounts WHERE tenant_id = $1)::int AS accounts,
              (SELECT count(*) FROM replay_reference.credentials WHERE tenant_id = $1 AND revoked_at IS NOT NULL)::int AS revoked,
              (SELECT count(*) FROM replay_reference.credential_usage u JOIN replay_reference.credentials c
                 USING (app_password_id) WHERE c.tenant_id = $1)::int AS used,
              (SELECT count(*) FROM replay_reference.sign_in_activity WHERE tenant_id = $1)::int AS activity`,
      [tenantId],
    );
    expect(counts).toEqual({ accounts: 4, revoked: 5, used: 1, activity: 4 });
    // The live usage rows, as the Kafka consumer writes them from this tenant's sign-in events.
    const signIns: EventRow[] = await db.query(
      `SELECT ${eventColumns()} FROM events WHERE tenant_id = $1 AND type LIKE 'LegacySignIn%' ORDER BY seq`,
      [tenantId],
    );
    await applyOnce(db, signInActivityProjection, signIns.map(toEnvelope));
    expect(
      await db.query(
        `SELECT to_jsonb(l), to_jsonb(r) FROM public.credential_usage l
         JOIN public.credentials c USING (app_password_id)
         FULL JOIN (SELECT u.* FROM replay_reference.credential_usage u
                    JOIN replay_reference.credentials rc USING (app_password_id) WHERE rc.tenant_id = $1) r
           USING (app_password_id)
         WHERE (c.tenant_id = $1 OR l IS NULL) AND to_jsonb(l) IS DISTINCT FROM to_jsonb(r)`,
        [tenantId],
      ),
    ).toEqual([]);

    for (const size of [3, 100_000]) {
      // As the rebuild's bulk phase has them: primary keys only, the rest built after the load
      // (which then proves the result keeps the unique indexes and foreign keys).
      await db.query(`DROP SCHEMA IF EXISTS replay_batches CASCADE`);
      const copies = new TableCopies(db, 'replay_batches', ALL_TABLES);
      await copies.create();
      await replayInto('replay_batches', size, (run) => projectStagedBatch(run, [...REBUILDABLE_MODELS]));
      await copies.complete();
      for (const table of ALL_TABLES) {
        expect({
          size,
          table,
          differences: await differences('replay_reference', 'replay_batches', table),
        }).toEqual({ size, table, differences: [] });
      }
    }
    await db.query(`DROP SCHEMA replay_batches CASCADE`);
    await db.query(`DROP SCHEMA replay_reference CASCADE`);
  }, 120_000);

  it('rebuilds and swaps while commands keep appending; the result equals a projection from scratch and verification answers right', async () => {
    // Left by an interrupted run of the next test: the reference has only this projection's rows.
    await db.query(`DELETE FROM projection_stream_positions WHERE projection = 'some-other-projection'`);
    const tenantId = await tenant();
    const users = await Promise.all(Array.from({ length: 6 }, () => mfaUser(tenantId)));
    interface Issued {
      userIndex: number;
      password: string;
      appPasswordId: string;
      revoked: boolean;
    }
    const issued: Issued[] = [];
    const disabled = new Set<number>();
    const failures: unknown[] = [];
    let stop = false;
    let operations = 0;
    // Several workers through the real command bus, each on its own users (no version conflicts).
    const worker = async (mine: number[]) => {
      for (let step = 0; !stop; step++) {
        const userIndex = mine[step % mine.length];
        const { tenantId: t, userId, username } = { tenantId, ...users[userIndex] };
        try {
          const live = issued.filter((p) => p.userIndex === userIndex && !p.revoked);
          if (disabled.has(userIndex)) {
            await user(t, { type: 'EnableUser', data: { tenantId: t, userId, origin: 'admin' } });
            disabled.delete(userIndex);
          } else if (step % 5 === 4 && live.length > 0) {
            await user(t, {
              type: 'DeleteAppPassword',
              data: { tenantId: t, userId, appPasswordId: live[0].appPasswordId, by: 'admin' },
            });
            live[0].revoked = true;
          } else if (step % 7 === 6) {
            await user(t, { type: 'DisableUser', data: { tenantId: t, userId, origin: 'admin' } });
            disabled.add(userIndex);
          } else if (live.length < 8) {
            const created = await create(t, userId, `Device ${step}`);
            issued.push({
              userIndex,
              password: created.password,
              appPasswordId: created.appPasswordId,
              revoked: false,
            });
          } else {
            await verify(t, username, live[live.length - 1].password);
          }
          operations++;
        } catch (error) {
          failures.push(error instanceof DomainError ? error.code : error);
        }
      }
    };
    const workers = [worker([0, 1]), worker([2, 3]), worker([4, 5])];
    await new Promise((r) => setTimeout(r, 500));
    const before = operations;
    // Small batches: many of them, with commands landing between every two.
    const result = await rebuildReadModels(db, { batchSize: 200, lockTimeoutMs: 100 });
    const during = operations - before;
    await new Promise((r) => setTimeout(r, 500)); // commands after the swap write the new tables
    stop = true;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(during).toBeGreaterThan(0);
    expect(result.tables).toEqual(ALL_TABLES);
    expect(result.swapAttempts).toBeGreaterThanOrEqual(1);
    // The live tables are new ones (not the same relations with rows added)...
    const [{ schemas }] = await db.query(
      `SELECT count(*)::int AS schemas FROM pg_namespace WHERE nspname LIKE 'rebuild\\_%' OR nspname LIKE 'replaced\\_%'`,
    );
    expect(schemas).toBe(0);
    // ...with the migrations' index and constraint names.
    const indexes = await db.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1) ORDER BY 1`,
      [ALL_TABLES],
    );
    expect(indexes.map((i: { indexname: string }) => i.indexname)).toEqual(
      expect.arrayContaining([
        'accounts_live_username',
        'credentials_verifier',
        'credentials_user',
        'accounts_pkey',
      ]),
    );
    const [{ fks }] = await db.query(
      `SELECT count(*)::int AS fks FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY($1)`,
      [['accounts', 'credentials', 'credential_usage']],
    );
    expect(fks).toBe(3);

    // sign_in_activity is fed from Kafka: the live consumer, resuming on the new tables from its own
    // offsets, is handed every sign-in event again here. The positions the rebuild wrote must make it
    // skip exactly those the rebuild counted.
    const signIns: EventRow[] = await db.query(
      `SELECT ${eventColumns()} FROM events WHERE type LIKE 'LegacySignIn%' ORDER BY seq`,
    );
    for (let i = 0; i < signIns.length; i += 1_000) {
      await applyOnce(db, signInActivityProjection, signIns.slice(i, i + 1_000).map(toEnvelope));
    }
    await fromScratch('replay_reference');
    for (const table of ALL_TABLES) {
      expect({ table, differences: await differences('replay_reference', 'public', table) }).toEqual({
        table,
        differences: [],
      });
    }
    await db.query(`DROP SCHEMA replay_reference CASCADE`);

    // Verification reads the new tables: live passwords of enabled users sign in, nothing else does.
    expect(issued.length).toBeGreaterThan(6);
    // Those expected to sign in first: refusals count towards the user's smart lockout (B8).
    const expectations = issued.map((p) => ({ p, allowed: !p.revoked && !disabled.has(p.userIndex) }));
    expect(expectations.filter((e) => e.allowed).length).toBeGreaterThan(0);
    expect(expectations.filter((e) => !e.allowed).length).toBeGreaterThan(0);
    for (const { p, allowed } of [...expectations].sort((x, y) => Number(y.allowed) - Number(x.allowed))) {
      const verdict = await verify(tenantId, users[p.userIndex].username, p.password);
      expect({ p, allowed: verdict.allowed }).toEqual({ p, allowed });
    }
  }, 180_000);

  it('--only sign-in-activity swaps that model alone (last use with it) and keeps the other projections positions', async () => {
    await db.query(
      `INSERT INTO projection_stream_positions VALUES ('some-other-projection', 'stream-x', 7)
       ON CONFLICT (projection, stream_id) DO UPDATE SET version = 7`,
    );
    const [{ oid: credentialsBefore }] = await db.query(`SELECT 'public.credentials'::regclass::oid AS oid`);
    const result = await rebuildReadModels(db, { only: ['sign-in-activity'] });
    expect(result.tables).toEqual(MODEL_TABLES['sign-in-activity']);
    const [{ oid: credentialsAfter }] = await db.query(`SELECT 'public.credentials'::regclass::oid AS oid`);
    expect(credentialsAfter).toBe(credentialsBefore);
    expect(
      await db.query(
        `SELECT version FROM projection_stream_positions WHERE projection = 'some-other-projection'`,
      ),
    ).toEqual([{ version: 7 }]);
    await db.query(`DELETE FROM projection_stream_positions WHERE projection = 'some-other-projection'`);
  }, 60_000);
});
