import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CommandBus } from '@nestjs/cqrs';
import { ProblemError } from '@latchkey/problems';
import { DataSource } from 'typeorm';
import { startIntegrationApp } from '../../../../../test/integration-app';
import { AppPasswordsModule } from '../../app-passwords.module';
import { CreateAppPasswordCommand, type CreatedAppPassword } from '../../app-passwords/create-app-password';
import { normaliseAppPassword } from '../../domain';
import { RunTenantCommand } from '../../tenants/tenant-commands';
import { VerifySignIn, type SignInVerdict } from '../../sign-in/verify-sign-in.command';
import { RunUserCommand, type UserCommandRequest } from '../../users/user-commands';
import { AppPasswordHasher } from '../app-password-hasher';
import type { CommandContext } from '../event-sourced-streams';
import { VerificationCoherence, type CoherenceOptions } from './verification-coherence';
import { VerificationReplica } from './verification-replica';

/**
 * Several API instances answering verifications from memory, against the real PostgreSQL: the lease
 * + invalidation-acknowledgement protocol (PRODUCT §7, zero successes after acknowledgement).
 * Instance A is the application's own; B and C are further replicas with their own connections, as
 * other processes would have.
 */
describe('verification replicas across instances (real PostgreSQL)', () => {
  let commands: CommandBus;
  let db: DataSource;
  let hasher: AppPasswordHasher;
  let here: VerificationReplica;
  let close: () => Promise<void>;
  const extra: VerificationCoherence[] = [];

  beforeAll(async () => {
    const app = await startIntegrationApp(AppPasswordsModule);
    commands = app.get(CommandBus);
    db = app.get(DataSource);
    hasher = app.get(AppPasswordHasher);
    here = app.get(VerificationReplica);
    await app.get(VerificationCoherence).serve(here);
    close = () => app.close();
  });
  afterAll(async () => {
    for (const coherence of extra) await coherence.onModuleDestroy();
    await close?.();
  });

  async function replica(options: Partial<CoherenceOptions> = {}) {
    const coherence = new VerificationCoherence(db, options);
    extra.push(coherence);
    await coherence.onModuleInit();
    const memory = new VerificationReplica(db);
    await coherence.serve(memory);
    return { coherence, memory };
  }

  const admin = (tenantId: string): CommandContext => ({
    tenantId,
    actor: { kind: 'admin', id: 'test-admin' },
  });
  const user = (tenantId: string, command: UserCommandRequest) =>
    commands.execute(new RunUserCommand(command, admin(tenantId)));

  async function signedUpUser(): Promise<
    { tenantId: string; userId: string; username: string } & CreatedAppPassword
  > {
    const tenantId = randomUUID();
    await commands.execute(
      new RunTenantCommand(
        { type: 'CreateTenant', data: { tenantId, name: 'Fabrikam', policy: { appPasswordsAllowed: true } } },
        admin(tenantId),
      ),
    );
    const userId = randomUUID();
    const username = `r-${userId.slice(0, 8)}@fabrikam.test`;
    await user(tenantId, {
      type: 'ProvisionUser',
      data: { tenantId, userId, username, source: 'cloud', mfa: 'enforced', origin: 'admin' },
    });
    await user(tenantId, { type: 'CompleteMfaRegistration', data: { tenantId, userId } });
    const created: CreatedAppPassword = await commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, 'Phone', undefined, {
        tenantId,
        actor: { kind: 'user', id: userId },
      }),
    );
    return { tenantId, userId, username, ...created };
  }

  /** Would this replica let the secret sign in (the credential found and not revoked)? */
  const lets = async (memory: VerificationReplica, tenantId: string, username: string, password: string) => {
    const view = await memory.view(tenantId, username, hasher.hash(normaliseAppPassword(password)));
    return view.credential !== null && !view.credential.revoked && view.account?.status === 'active';
  };

  /** Asks until the tenant is in memory (its load runs in the background after the first ask). */
  async function warm(memory: VerificationReplica, tenantId: string, username: string, password: string) {
    for (let i = 0; i < 200 && !memory.holds(tenantId); i++) {
      await lets(memory, tenantId, username, password);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect({ serving: memory.stats().serving, holds: memory.holds(tenantId) }).toEqual({
      serving: true,
      holds: true,
    });
  }

  it('answers from memory once loaded, and a command returns only after every instance dropped what it changed', async () => {
    const b = await replica();
    const c = await replica();
    const { tenantId, userId, username, password, appPasswordId } = await signedUpUser();
    await warm(b.memory, tenantId, username, password);
    await warm(c.memory, tenantId, username, password);

    // Written behind the service's back (no event, no announcement): memory does not see it, which
    // shows memory is what answers.
    await db.query(`UPDATE credentials SET revoked_at = now() WHERE app_password_id = $1`, [appPasswordId]);
    expect(await lets(b.memory, tenantId, username, password)).toBe(true);
    await db.query(`UPDATE credentials SET revoked_at = NULL WHERE app_password_id = $1`, [appPasswordId]);

    await user(tenantId, {
      type: 'DeleteAppPassword',
      data: { tenantId, userId, appPasswordId, by: 'user' },
    });
    // No wait: the command has returned, so every replica has already acknowledged.
    expect(await lets(b.memory, tenantId, username, password)).toBe(false);
    expect(await lets(c.memory, tenantId, username, password)).toBe(false);
  });

  it('a password created on an instance verifies there at once (creation does not wait for the others)', async () => {
    const { tenantId, userId, username, password } = await signedUpUser();
    await warm(here, tenantId, username, password);
    const second: CreatedAppPassword = await commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, 'Tablet', undefined, {
        tenantId,
        actor: { kind: 'user', id: userId },
      }),
    );
    expect(await lets(here, tenantId, username, second.password)).toBe(true);
  });

  it('zero successful verifications start after a disable is acknowledged, on any of three instances, under concurrency', async () => {
    const b = await replica();
    const c = await replica();
    const { tenantId, userId, username, password } = await signedUpUser();
    await warm(b.memory, tenantId, username, password);
    await warm(c.memory, tenantId, username, password);

    let acknowledgedAt = Number.POSITIVE_INFINITY;
    const late: number[] = [];
    let allowedBefore = 0;
    let stop = false;
    const hammer = async (memory: VerificationReplica) => {
      while (!stop) {
        const startedAt = performance.now();
        const allowed = await lets(memory, tenantId, username, password);
        if (allowed && startedAt > acknowledgedAt) late.push(startedAt - acknowledgedAt);
        if (allowed && startedAt < acknowledgedAt) allowedBefore += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const workers = [b.memory, c.memory, b.memory, c.memory].map(hammer);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await user(tenantId, { type: 'DisableUser', data: { tenantId, userId, origin: 'admin' } });
    acknowledgedAt = performance.now();
    // Before this process handles any more I/O (an announcement arriving late would be I/O): memory
    // answers without any, so this asks each instance at the very instant of acknowledgement.
    expect(
      await Promise.all([b.memory, c.memory].map((memory) => lets(memory, tenantId, username, password))),
    ).toEqual([false, false]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    stop = true;
    await Promise.all(workers);

    expect(allowedBefore).toBeGreaterThan(0);
    expect(late).toEqual([]);
  });

  it('a verification in flight when a revocation commits answers before the revocation is acknowledged', async () => {
    const { tenantId, userId, username, password, appPasswordId } = await signedUpUser();
    const verify = (clientIp: string): Promise<SignInVerdict> =>
      commands.execute(new VerifySignIn(tenantId, username, password, 'IMAP', 'sign-in', clientIp));
    await warm(here, tenantId, username, password);
    // A first success makes a lockout row; a success from another network then updates it (B8).
    expect(await verify('192.0.2.10')).toMatchObject({ allowed: true });
    const blocker = db.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query(`SELECT 1 FROM sign_in_lockouts WHERE tenant_id = $1 AND username = $2 FOR UPDATE`, [
      tenantId,
      username,
    ]);
    const order: string[] = [];
    // Reads the state (allowed), then waits on the row this test holds, as on a slow group commit.
    const inFlight = verify('198.51.100.20').then((verdict) =>
      order.push(`answered allowed=${verdict.allowed}`),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const revocation = user(tenantId, {
      type: 'DeleteAppPassword',
      data: { tenantId, userId, appPasswordId, by: 'user' },
    }).then(() => order.push('revocation acknowledged'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await blocker.rollbackTransaction();
    await blocker.release();
    await Promise.all([inFlight, revocation]);

    expect(order).toEqual(['answered allowed=true', 'revocation acknowledged']);
    expect(await verify('192.0.2.10')).toMatchObject({ allowed: false });
  });

  it('B8: a locked name is read from PostgreSQL whatever was presented, so a right password answers no faster than a wrong one', async () => {
    const { tenantId, username, password } = await signedUpUser();
    const verify = (secret: string): Promise<SignInVerdict> =>
      commands.execute(new VerifySignIn(tenantId, username, secret, 'IMAP', 'sign-in', '203.0.113.9'));
    await warm(here, tenantId, username, password);
    let verdict: SignInVerdict | undefined;
    for (let i = 0; i < 50 && !(verdict && !verdict.allowed && verdict.reason === 'account-locked'); i++)
      verdict = await verify(`wrong ${i}`);
    expect(verdict).toMatchObject({ allowed: false, reason: 'account-locked' });
    // The right password while locked: memory now holds the locked state.
    expect(await verify(password)).toMatchObject({ allowed: false, reason: 'account-locked' });
    expect(here.stats().accounts).toBeGreaterThan(0);

    // The lock is lifted behind memory's back (no announcement): only a read of PostgreSQL sees it.
    await db.query(`DELETE FROM sign_in_lockouts WHERE tenant_id = $1 AND username = $2`, [
      tenantId,
      username,
    ]);
    expect(await verify(password)).toMatchObject({ allowed: true });
  });

  it('a leaseholder that never acknowledges holds a command back until its lease has ended, and no longer', async () => {
    const { tenantId, userId, appPasswordId } = await signedUpUser();
    // A process that took a lease and then froze: it will neither acknowledge nor renew.
    await db.query(
      `INSERT INTO verification_replicas (instance_id, host, pid, lease_expires_at)
       VALUES ($1, 'frozen', 1, now() + interval '1500 milliseconds')`,
      [randomUUID()],
    );
    const started = performance.now();
    await user(tenantId, {
      type: 'DeleteAppPassword',
      data: { tenantId, userId, appPasswordId, by: 'user' },
    });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(1_200);
    expect(waited).toBeLessThan(4_000);
  });

  it('a repeated change that decides nothing returns no sooner than the change it repeats is confirmed', async () => {
    const { tenantId, userId } = await signedUpUser();
    await db.query(
      `INSERT INTO verification_replicas (instance_id, host, pid, lease_expires_at)
       VALUES ($1, 'frozen', 1, now() + interval '1500 milliseconds')`,
      [randomUUID()],
    );
    const disable = () =>
      user(tenantId, { type: 'DisableUser', data: { tenantId, userId, origin: 'admin' } });
    // One admin disables the user; the command waits for the frozen instance.
    const first = disable();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Another admin disables them again: nothing to decide, but "done" must still mean done.
    const started = performance.now();
    const second = await disable();
    const waited = performance.now() - started;
    await first;
    expect(second.events).toEqual([]);
    expect(waited).toBeGreaterThan(800);
  });

  it('a leaseholder that keeps renewing without acknowledging: the command answers 503 change-unconfirmed', async () => {
    const waiter = await replica({ confirmTimeoutMs: 800 });
    const zombie = randomUUID();
    await db.query(
      `INSERT INTO verification_replicas (instance_id, host, pid, lease_expires_at)
       VALUES ($1, 'zombie', 1, now() + interval '300 milliseconds')`,
      [zombie],
    );
    const renewals = setInterval(
      () =>
        void db.query(
          `UPDATE verification_replicas SET lease_expires_at = now() + interval '300 milliseconds' WHERE instance_id = $1`,
          [zombie],
        ),
      100,
    );
    try {
      const failure = await waiter.coherence
        .confirm([`never-announced-${randomUUID()}`])
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ProblemError);
      expect(failure).toMatchObject({ status: 503, slug: 'change-unconfirmed' });
    } finally {
      clearInterval(renewals);
      await db.query(`DELETE FROM verification_replicas WHERE instance_id = $1`, [zombie]);
    }
  });

  it('an instance that registered after the change was announced is waited for only briefly, not a whole lease', async () => {
    const waiter = await replica({ confirmTimeoutMs: 5_000, startupGraceMs: 400 });
    // Started up around the commit, began listening after it: it never hears the announcement,
    // but every tenant it reads, it reads after the commit.
    const announcedAt = new Date(Date.now() - 60_000);
    const starting = randomUUID();
    await db.query(
      `INSERT INTO verification_replicas (instance_id, host, pid, lease_expires_at)
       VALUES ($1, 'starting', 1, now() + interval '3 seconds')`,
      [starting],
    );
    try {
      const started = performance.now();
      // Every replica of this suite registered after `announcedAt` too, and none heard this token:
      // each is let go after the grace, so the confirmation resolves, well before its 5 s timeout.
      await expect(
        waiter.coherence.confirm([`before-it-listened-${randomUUID()}`], announcedAt),
      ).resolves.toBeUndefined();
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await db.query(`DELETE FROM verification_replicas WHERE instance_id = $1`, [starting]);
    }
  });

  it('an instance whose lease ran out in PostgreSQL forgets its memory and takes a new lease', async () => {
    const b = await replica({ leaseMs: 1_000, renewEveryMs: 200, marginMs: 200 });
    const { tenantId, username, password } = await signedUpUser();
    await warm(b.memory, tenantId, username, password);
    const before = b.coherence.leaseId;
    // As a command that waited for it would have seen after a long pause of the process.
    await db.query(
      `UPDATE verification_replicas SET lease_expires_at = now() - interval '1 second' WHERE instance_id = $1`,
      [before],
    );
    for (let i = 0; i < 100 && b.coherence.leaseId === before; i++)
      await new Promise((r) => setTimeout(r, 20));
    const after = b.coherence.leaseId;
    expect(after).not.toBe(before);
    expect(b.memory.stats()).toMatchObject({ tenants: 0, accounts: 0 });
    // The new identity is chosen first, then the old lease deleted, then the new one inserted: once
    // the new lease is in PostgreSQL, the old one must be gone.
    const leases = () =>
      db.query(
        `SELECT count(*) FILTER (WHERE instance_id = $1)::int AS old,
                count(*) FILTER (WHERE instance_id = $2)::int AS new FROM verification_replicas`,
        [before, after],
      );
    let [rows] = await leases();
    for (let i = 0; i < 100 && rows.new === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      [rows] = await leases();
    }
    expect(rows).toEqual({ old: 0, new: 1 });
  });

  it('a cut listening connection: memory is dropped at once, and a change committed meanwhile is never answered stale', async () => {
    const b = await replica({ leaseMs: 1_000, renewEveryMs: 200, marginMs: 200, reconnectMs: 300 });
    const { tenantId, userId, username, password, appPasswordId } = await signedUpUser();
    await warm(b.memory, tenantId, username, password);

    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [
      b.coherence.connectionName,
    ]);
    for (let i = 0; i < 100 && b.memory.serving; i++) await new Promise((r) => setTimeout(r, 10));
    expect(b.memory.serving).toBe(false);
    // Announced while B could not hear it.
    await user(tenantId, {
      type: 'DeleteAppPassword',
      data: { tenantId, userId, appPasswordId, by: 'user' },
    });
    expect(await lets(b.memory, tenantId, username, password)).toBe(false);

    for (let i = 0; i < 200 && !b.memory.serving; i++) await new Promise((r) => setTimeout(r, 20));
    expect(b.memory.serving).toBe(true);
    for (let i = 0; i < 20; i++) expect(await lets(b.memory, tenantId, username, password)).toBe(false);
  });
  it('a process that serves no replica (the sync worker) forgets old acknowledgements as new ones arrive', async () => {
    const worker = new VerificationCoherence(db, { ackKeptMs: 300 });
    extra.push(worker);
    await worker.onModuleInit();
    const ack = (tokens: string[]) =>
      db.query(`SELECT pg_notify('latchkey_verification_ack', $1)`, [
        JSON.stringify({ instanceId: randomUUID(), tokens }),
      ]);
    const until = async (check: () => boolean) => {
      for (const deadline = Date.now() + 3_000; !check(); await new Promise((r) => setTimeout(r, 20)))
        if (Date.now() > deadline) throw new Error(`remembers ${worker.rememberedAcks}`);
    };
    await ack(Array.from({ length: 50 }, () => randomUUID()));
    await until(() => worker.rememberedAcks >= 50);
    await new Promise((r) => setTimeout(r, 400));
    await ack([randomUUID()]);
    await until(() => worker.rememberedAcks < 50);
    expect(worker.rememberedAcks).toBeLessThanOrEqual(1 + 3); // the new one, and any another test sent
  });
  it('reads at most concurrentLoads tenants at once, each on a connection of its own, and every one in the end', async () => {
    // The replica's own connections counted; everything else goes to the real DataSource.
    let open = 0;
    let most = 0;
    const counting = new Proxy(db, {
      get(target, property) {
        if (property === 'createQueryRunner')
          return () => {
            const runner = target.createQueryRunner();
            most = Math.max(most, ++open);
            const release = runner.release.bind(runner);
            runner.release = () => ((open -= 1), release());
            return runner;
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const coherence = new VerificationCoherence(db);
    extra.push(coherence);
    await coherence.onModuleInit();
    const memory = new VerificationReplica(counting, { concurrentLoads: 2 });
    await coherence.serve(memory);
    const users = await Promise.all(Array.from({ length: 6 }, () => signedUpUser()));
    for (let i = 0; i < 300 && !memory.serving; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    // Six tenants asked for at once, as after a restart: six loads wanted.
    await Promise.all(users.map((u) => lets(memory, u.tenantId, u.username, u.password)));
    for (let i = 0; i < 500 && memory.stats().accounts < 6; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(memory.stats()).toMatchObject({ serving: true, tenants: 6, accounts: 6 });
    expect(most).toBe(2);
    expect(open).toBe(0);
  });
  it('a user renamed while their tenant loads page by page never answers from memory under the old name', async () => {
    const { tenantId, userId, username, password } = await signedUpUser();
    const renamed = `zz-${userId.slice(0, 8)}@fabrikam.test`;
    // The replica's load connection, with the rename committed right after the first page came back.
    let renamedMidLoad = false;
    const renamingAfterFirstPage = new Proxy(db, {
      get(target, property) {
        if (property === 'createQueryRunner')
          return () => {
            const runner = target.createQueryRunner();
            const query = runner.query.bind(runner);
            runner.query = (async (sql: string, parameters?: unknown[]) => {
              const rows = await query(sql, parameters);
              if (!renamedMidLoad && sql.includes('ORDER BY a.username')) {
                renamedMidLoad = true;
                await user(tenantId, {
                  type: 'RenameUser',
                  data: { tenantId, userId, username: renamed, origin: 'admin' },
                });
              }
              return rows;
            }) as typeof runner.query;
            return runner;
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const coherence = new VerificationCoherence(db);
    extra.push(coherence);
    await coherence.onModuleInit();
    const memory = new VerificationReplica(renamingAfterFirstPage, { pageSize: 1 });
    await coherence.serve(memory);
    for (let i = 0; i < 300 && !memory.serving; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await lets(memory, tenantId, username, password); // starts the load
    for (let i = 0; i < 500 && memory.stats().accounts === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(renamedMidLoad).toBe(true);
    expect(memory.stats().accounts).toBe(1);
    expect(await lets(memory, tenantId, username, password)).toBe(false);
    expect(await lets(memory, tenantId, renamed, password)).toBe(true);
  }, 20_000);
});
