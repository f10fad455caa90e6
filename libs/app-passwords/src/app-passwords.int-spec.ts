import { randomUUID } from 'node:crypto';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { eventColumns, toEnvelope, type EventRow } from '@latchkey/event-store';
import { applyOnce } from '@latchkey/messaging';
import { ProblemError } from '@latchkey/problems';
import { DataSource } from 'typeorm';
import { startIntegrationApp } from '../../../test/integration-app';
import { AppPasswordsModule } from './app-passwords.module';
import { CreateAppPasswordCommand, type CreatedAppPassword } from './app-passwords/create-app-password';
import { ListAppPasswords, type AppPasswordSummary } from './app-passwords/list-app-passwords';
import {
  DEFAULT_LOCKOUT_SETTINGS,
  DomainError,
  mayHoldAppPassword,
  registerFailedSignIn,
  registerSuccessfulSignIn,
} from './domain';
import { EventSourcedStreams } from './infrastructure/event-sourced-streams';
import { LockoutStore } from './infrastructure/lockout.store';
import { VerificationCoherence } from './infrastructure/verification/verification-coherence';
import type { CommandContext } from './infrastructure/event-sourced-streams';
import { signInStreamIds } from './infrastructure/sign-in-recorder';
import { ReportLeak } from './leak-reports/report-leak';
import { signInActivityProjection } from './sign-in/sign-in-activity.projection';
import { VerifySignIn, type SignInVerdict } from './sign-in/verify-sign-in.command';
import { RunTenantCommand } from './tenants/tenant-commands';
import { RunUserCommand, type UserCommandRequest } from './users/user-commands';

/** The application layer against the real PostgreSQL: commands, inline projections, verification. */
describe('app passwords (real PostgreSQL)', () => {
  let commands: CommandBus;
  let queries: QueryBus;
  let db: DataSource;
  let lockouts: LockoutStore;
  let close: () => Promise<void>;
  let app: Awaited<ReturnType<typeof startIntegrationApp>>;

  beforeAll(async () => {
    app = await startIntegrationApp(AppPasswordsModule);
    commands = app.get(CommandBus);
    queries = app.get(QueryBus);
    db = app.get(DataSource);
    lockouts = app.get(LockoutStore);
    close = () => app.close();
  });
  afterAll(() => close?.());

  const admin = (tenantId: string): CommandContext => ({
    tenantId,
    actor: { kind: 'admin', id: 'test-admin' },
  });

  async function tenantWith(policy: Record<string, unknown> = { appPasswordsAllowed: true }) {
    const tenantId = randomUUID();
    await commands.execute(
      new RunTenantCommand(
        { type: 'CreateTenant', data: { tenantId, name: 'Contoso', policy } },
        admin(tenantId),
      ),
    );
    return tenantId;
  }

  /**
   * What the Kafka consumer does with a tenant's recorded attempts (this module runs none): last use
   * (B7) is the sign-in-activity projection's, never written by the verification itself.
   */
  async function consumeSignIns(tenantId: string): Promise<void> {
    const rows: EventRow[] = await db.query(
      `SELECT ${eventColumns()} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY seq`,
      [signInStreamIds(tenantId)],
    );
    await applyOnce(db, signInActivityProjection, rows.map(toEnvelope));
  }

  const user = (tenantId: string, command: UserCommandRequest) =>
    commands.execute(new RunUserCommand(command, admin(tenantId)));

  const as = (kind: 'hr' | 'sync-worker', tenantId: string, command: UserCommandRequest) =>
    commands.execute(new RunUserCommand(command, { tenantId, actor: { kind, id: `test-${kind}` } }));

  /** A synced user as directory sync provisions it, with MFA turned on by an admin and registered. */
  async function syncedMfaUser(tenantId: string, username = `s-${randomUUID().slice(0, 8)}@contoso.test`) {
    const userId = randomUUID();
    await as('sync-worker', tenantId, {
      type: 'ProvisionUser',
      data: { tenantId, userId, username, source: 'synced', mfa: 'disabled', origin: 'directory-sync' },
    });
    await user(tenantId, { type: 'SetMfaState', data: { tenantId, userId, mfa: 'enforced' } });
    await user(tenantId, { type: 'CompleteMfaRegistration', data: { tenantId, userId } });
    return { userId, username };
  }

  async function mfaUser(tenantId: string, username = `u-${randomUUID().slice(0, 8)}@contoso.test`) {
    const userId = randomUUID();
    await user(tenantId, {
      type: 'ProvisionUser',
      data: { tenantId, userId, username, source: 'cloud', mfa: 'enforced', origin: 'admin' },
    });
    await user(tenantId, { type: 'CompleteMfaRegistration', data: { tenantId, userId } });
    return { userId, username };
  }

  const create = (
    tenantId: string,
    userId: string,
    name: string,
    protocols?: string[],
  ): Promise<CreatedAppPassword> =>
    commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, name, protocols, {
        tenantId,
        actor: { kind: 'user', id: userId },
      }),
    );

  const verify = (
    tenantId: string,
    username: string,
    password: string,
    protocol = 'IMAP',
    clientIp = '192.0.2.10',
  ) =>
    commands.execute<VerifySignIn, SignInVerdict>(
      new VerifySignIn(tenantId, username, password, protocol, 'sign-in', clientIp),
    );

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof DomainError ? error.code : String(error)),
    );

  it('R10: creation is refused until the admin allows app passwords', async () => {
    const tenantId = await tenantWith({});
    const { userId } = await mfaUser(tenantId);
    expect(await refusal(create(tenantId, userId, 'Laptop'))).toMatch(/^R10\./);
    await commands.execute(
      new RunTenantCommand(
        { type: 'ChangeTenantPolicy', data: { tenantId, patch: { appPasswordsAllowed: true } } },
        admin(tenantId),
      ),
    );
    expect(await refusal(create(tenantId, userId, 'Laptop'))).toBe('accepted');
  });

  it('R10, R3: a creation decided on a policy that changed before it committed is decided again on the new one (regression: it landed after creation was forbidden)', async () => {
    const tenantId = await tenantWith();
    const { userId } = await mfaUser(tenantId);
    const policy = (patch: Record<string, unknown>) =>
      commands.execute(
        new RunTenantCommand({ type: 'ChangeTenantPolicy', data: { tenantId, patch } }, admin(tenantId)),
      );
    // The admin's change commits after the creation read the policy and before it appends.
    const between = (change: () => Promise<unknown>) => {
      const streams = app.get(EventSourcedStreams);
      const execute = streams.execute.bind(streams);
      return jest.spyOn(streams, 'execute').mockImplementationOnce(async (request) => {
        await change();
        return execute(request);
      });
    };
    const createdEvents = async () =>
      (
        await db.query(
          `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'AppPasswordCreated'`,
          [`user-${userId}`],
        )
      )[0].n as number;

    let spy = between(() => policy({ appPasswordsAllowed: false }));
    try {
      expect(await refusal(create(tenantId, userId, 'Laptop'))).toMatch(/^R10\./);
    } finally {
      spy.mockRestore();
    }
    expect(await createdEvents()).toBe(0);

    await policy({ appPasswordsAllowed: true });
    await create(tenantId, userId, 'Laptop');
    spy = between(() => policy({ maxAppPasswordsPerUser: 1 }));
    try {
      expect(await refusal(create(tenantId, userId, 'Phone'))).toMatch(/^R3\./);
    } finally {
      spy.mockRestore();
    }
    expect(await createdEvents()).toBe(1);
  });

  it('R1, R2, R9: a generated app password signs in without a second factor, and every attempt is recorded', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const created = await create(tenantId, userId, 'Laptop');
    expect(created.password).toMatch(/^lk[a-z]{2}( [a-z]{4}){5}$/);

    expect(await verify(tenantId, username.toUpperCase(), created.password)).toMatchObject({
      allowed: true,
      userId,
    });
    expect(await verify(tenantId, username, created.password.replace(/ /g, ''))).toMatchObject({
      allowed: true,
    });
    expect(await verify(tenantId, username, 'lkaa aaaa aaaa aaaa aaaa aaaa')).toEqual({
      allowed: false,
      reason: 'invalid-credentials',
      rule: null,
    });
    expect(await verify(tenantId, 'nobody@contoso.test', created.password)).toEqual({
      allowed: false,
      reason: 'invalid-credentials',
      rule: null,
    });

    const recorded = await db.query(
      `SELECT type, data FROM events WHERE stream_id = ANY($1::text[]) ORDER BY seq`,
      [signInStreamIds(tenantId)],
    );
    expect(recorded.map((e: { type: string }) => e.type)).toEqual([
      'LegacySignInSucceeded',
      'LegacySignInSucceeded',
      'LegacySignInFailed',
      'LegacySignInFailed',
    ]);
    expect(JSON.stringify(recorded)).not.toContain(created.password.replace(/ /g, ''));
    const lastUsed = async () =>
      ((await queries.execute(new ListAppPasswords(tenantId, userId))) as AppPasswordSummary[])[0].lastUsed;
    // B7: the verifications wrote their events and nothing else; last use comes from them.
    expect(await lastUsed()).toBeNull();
    await consumeSignIns(tenantId);
    expect(await lastUsed()).toMatchObject({ clientIp: '192.0.2.10', protocol: 'IMAP' });
  });

  it('R9: an app password typed into the username field is recorded as that, never as its letters', async () => {
    const tenantId = await tenantWith();
    const { userId } = await mfaUser(tenantId);
    const created = await create(tenantId, userId, 'Phone');
    const letters = created.password.replace(/ /g, '');
    // A client that swapped its fields, and one that put the password where the account goes.
    const typo = `${letters.slice(0, 10)}${letters[10] === 'a' ? 'b' : 'a'}${letters.slice(11)}`;
    const regrouped = letters.match(/.{1,3}/g)!.join(' ');
    for (const typed of [
      created.password,
      letters.toUpperCase(),
      `${letters}@contoso.test`,
      typo,
      regrouped,
    ]) {
      expect(await verify(tenantId, typed, 'whatever')).toEqual({
        allowed: false,
        reason: 'invalid-credentials',
        rule: null,
      });
    }
    const recorded: { data: { username: string } }[] = await db.query(
      `SELECT data FROM events WHERE stream_id = ANY($1::text[]) ORDER BY seq`,
      [signInStreamIds(tenantId)],
    );
    expect(recorded.map((e) => e.data.username)).toEqual(Array(5).fill('[app password]'));
    const lockouts = await db.query(`SELECT username FROM sign_in_lockouts WHERE tenant_id = $1`, [tenantId]);
    const stored = JSON.stringify([recorded, lockouts]);
    for (const group of created.password.split(' ').slice(1)) expect(stored).not.toContain(group);
  });

  it('R9: a real account whose name looks like a mistyped app password still signs in, and is recorded by name', async () => {
    const tenantId = await tenantWith();
    // `lk`, then 20 letters in short pieces: suspect to mayHoldAppPassword, and yet someone's name.
    const name = 'volker.hans.peter.josef.mueller@contoso.test';
    expect(mayHoldAppPassword(name)).toBe(true);
    const { userId, username } = await mfaUser(tenantId, name);
    const { password } = await create(tenantId, userId, 'Phone');
    expect(await verify(tenantId, username, password)).toMatchObject({ allowed: true, userId });
    expect(await verify(tenantId, username, 'not it')).toMatchObject({ allowed: false });
    const recorded: { data: { username: string } }[] = await db.query(
      `SELECT data FROM events WHERE stream_id = ANY($1::text[]) ORDER BY seq`,
      [signInStreamIds(tenantId)],
    );
    expect(recorded.map((e) => e.data.username)).toEqual([name, name]);
  });

  it("B8: lockout states that say nothing any more are pruned; a real user's familiar networks stay", async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const created = await create(tenantId, userId, 'Laptop');
    const now = new Date();
    const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
    const fail = (name: string, at: Date) =>
      lockouts.update(
        tenantId,
        name,
        (state) =>
          registerFailedSignIn(
            state,
            { clientIp: '198.51.100.7', passwordFingerprint: randomUUID(), now: at },
            DEFAULT_LOCKOUT_SETTINGS,
          ),
        at,
      );
    // Defaults: a lock lasts at most an hour and counters reset after an hour without failures.
    await fail('sprayed-long-ago@contoso.test', hoursAgo(3));
    await fail('sprayed-lately@contoso.test', hoursAgo(1));
    // Locked for a day under a longer maximum than the tenant has now: the lock runs to its end.
    await lockouts.update(
      tenantId,
      'locked-for-a-day@contoso.test',
      (state) => ({ ...state, unfamiliar: { ...state.unfamiliar, lockedUntilMs: hoursAgo(-21).getTime() } }),
      hoursAgo(3),
    );
    await fail(username, hoursAgo(3));
    await lockouts.update(
      tenantId,
      username,
      (state) =>
        registerSuccessfulSignIn(
          state,
          { clientIp: '192.0.2.10', now: hoursAgo(3) },
          DEFAULT_LOCKOUT_SETTINGS,
        ),
      hoursAgo(3),
    );
    await lockouts.prune(now);
    const left = await db.query(
      `SELECT username FROM sign_in_lockouts WHERE tenant_id = $1 ORDER BY username`,
      [tenantId],
    );
    expect(left.map((row: { username: string }) => row.username)).toEqual(
      [username, 'sprayed-lately@contoso.test', 'locked-for-a-day@contoso.test'].sort(),
    );
    // A name pruned is a name never seen: it counts from nothing again, and nothing fails.
    expect(await verify(tenantId, 'sprayed-long-ago@contoso.test', 'wrong')).toMatchObject({
      allowed: false,
    });
    expect(await verify(tenantId, username, created.password)).toMatchObject({ allowed: true });
  });

  it('R9, B7: 300 simultaneous attempts are each recorded once, across the lanes, and last use counts them all', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const created = await create(tenantId, userId, 'Busy printer');
    const verdicts = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        i % 3 === 2
          ? verify(tenantId, `nobody-${i}@contoso.test`, created.password)
          : verify(tenantId, username, created.password),
      ),
    );
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(200);

    // Every attempt answered is already recorded: no wait, no polling.
    const recorded: { stream_id: string; type: string; username: string }[] = await db.query(
      `SELECT stream_id, type, data ->> 'username' AS username FROM events
       WHERE stream_id = ANY($1::text[]) ORDER BY seq`,
      [signInStreamIds(tenantId)],
    );
    expect(recorded.filter((e) => e.type === 'LegacySignInSucceeded')).toHaveLength(200);
    const refusedNames = recorded.filter((e) => e.type === 'LegacySignInFailed').map((e) => e.username);
    expect(new Set(refusedNames).size).toBe(100);
    // Concurrent commits were in flight: more than one lane holds this tenant's attempts.
    expect(new Set(recorded.map((e) => e.stream_id)).size).toBeGreaterThan(1);
    // Each lane is a gap-free stream, and its outbox rows match its events one to one.
    const lanes: { version: number; events: number; queued: number }[] = await db.query(
      `SELECT s.version, count(e.seq)::int AS events, count(o.seq)::int AS queued
       FROM streams s JOIN events e ON e.stream_id = s.id LEFT JOIN outbox o ON o.event_seq = e.seq
       WHERE s.id = ANY($1::text[]) GROUP BY s.id, s.version`,
      [signInStreamIds(tenantId)],
    );
    expect(lanes.every((lane) => lane.version === lane.events && lane.events === lane.queued)).toBe(true);
    await consumeSignIns(tenantId);
    const [{ uses }] = await db.query(`SELECT uses::int FROM credential_usage WHERE app_password_id = $1`, [
      created.appPasswordId,
    ]);
    expect(uses).toBe(200);
  });

  it('B7: last use is the newest success, each counted once however often the consumer is handed it', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const created = await create(tenantId, userId, 'Laptop');
    for (const [protocol, ip] of [
      ['IMAP', '192.0.2.1'],
      ['SMTP', '192.0.2.2'],
      ['POP', '192.0.2.3'],
    ])
      expect(await verify(tenantId, username, created.password, protocol, ip)).toMatchObject({
        allowed: true,
      });
    const rows: EventRow[] = await db.query(
      `SELECT ${eventColumns()} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY seq`,
      [signInStreamIds(tenantId)],
    );
    const attempts = rows.map(toEnvelope);
    // A success naming an app password the credentials model does not hold (a hand-written event):
    // skipped, never a foreign-key failure that would stop the consumer on this batch for good.
    const stray = {
      ...attempts[0],
      id: randomUUID(),
      streamId: `sign-ins-${tenantId}-stray`,
      version: 1,
      data: { ...(attempts[0].data as object), appPasswordId: randomUUID() },
    };
    await applyOnce(db, signInActivityProjection, [attempts[0], stray]);
    // What a relay re-sends after a crash, then the rest.
    await applyOnce(db, signInActivityProjection, attempts);
    await applyOnce(db, signInActivityProjection, attempts);
    const usage = await db.query(
      `SELECT app_password_id, uses::int, last_ip, last_protocol FROM credential_usage
       WHERE app_password_id = ANY($1::uuid[])`,
      [[created.appPasswordId, (stray.data as { appPasswordId: string }).appPasswordId]],
    );
    expect(usage).toEqual([
      { app_password_id: created.appPasswordId, uses: 3, last_ip: '192.0.2.3', last_protocol: 'POP' },
    ]);
  });

  it('R3: 50 simultaneous creations against the limit of 40 leave exactly 40', async () => {
    const tenantId = await tenantWith();
    const { userId } = await mfaUser(tenantId);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => refusal(create(tenantId, userId, `Device ${i}`))),
    );
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(40);
    expect(outcomes.filter((o) => o !== 'accepted').every((o) => o === 'R3.limit-reached')).toBe(true);
    const [{ count }] = await db.query(
      `SELECT count(*)::int AS count FROM credentials WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
    expect(count).toBe(40);
  });

  it('R13 and R15: a policy block and a disable stop app passwords at once; enabling restores them', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const { password } = await create(tenantId, userId, 'Phone');

    await user(tenantId, { type: 'DisableUser', data: { tenantId, userId, origin: 'admin' } });
    expect(await verify(tenantId, username, password)).toMatchObject({
      allowed: false,
      reason: 'account-disabled',
    });
    await user(tenantId, { type: 'EnableUser', data: { tenantId, userId, origin: 'admin' } });
    expect(await verify(tenantId, username, password)).toMatchObject({ allowed: true });

    await commands.execute(
      new RunTenantCommand(
        { type: 'ChangeTenantPolicy', data: { tenantId, patch: { legacyAuthBlocked: true } } },
        admin(tenantId),
      ),
    );
    expect(await verify(tenantId, username, password)).toMatchObject({
      allowed: false,
      reason: 'legacy-auth-blocked',
    });
    const remaining = (await queries.execute(new ListAppPasswords(tenantId, userId))) as AppPasswordSummary[];
    expect(remaining).toHaveLength(1); // blocked, not deleted
  });

  it('R15: deleting the account deletes its app passwords for good', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const { password } = await create(tenantId, userId, 'Phone');
    await user(tenantId, { type: 'DeleteUser', data: { tenantId, userId, origin: 'admin' } });
    expect(await verify(tenantId, username, password)).toMatchObject({
      allowed: false,
      reason: 'invalid-credentials',
    });
    const [{ revoked }] = await db.query(
      `SELECT count(*)::int AS revoked FROM credentials WHERE user_id = $1 AND revoked_reason = 'account-deleted'`,
      [userId],
    );
    expect(revoked).toBe(1);
  });

  it('zero successful verifications start after a revocation is acknowledged, under concurrency', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const { password, appPasswordId } = await create(tenantId, userId, 'Phone');

    let acknowledgedAt = Number.POSITIVE_INFINITY;
    const lateSuccesses: number[] = [];
    let stop = false;
    const hammer = async () => {
      while (!stop) {
        const startedAt = performance.now();
        const verdict = await verify(tenantId, username, password);
        if (verdict.allowed && startedAt > acknowledgedAt) lateSuccesses.push(startedAt - acknowledgedAt);
      }
    };
    const workers = Array.from({ length: 8 }, hammer);
    await new Promise((r) => setTimeout(r, 150));
    await user(tenantId, {
      type: 'DeleteAppPassword',
      data: { tenantId, userId, appPasswordId, by: 'user' },
    });
    acknowledgedAt = performance.now();
    await new Promise((r) => setTimeout(r, 150));
    stop = true;
    await Promise.all(workers);

    expect(lateSuccesses).toEqual([]);
    expect(await verify(tenantId, username, password)).toMatchObject({ allowed: false });
  });

  it('B12: a leaked app password found in text is revoked at once and the report recorded', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const { password } = await create(tenantId, userId, 'Laptop');
    const result = await commands.execute(
      new ReportLeak(`config:\n  imap_password: "${password}"\n`, {
        clientIp: '198.51.100.7',
        userAgent: 'scanner/1.0',
        source: 'https://paste.example/abc',
      }),
    );
    expect(result).toMatchObject({ recognised: 1, revoked: 1 });
    expect(await verify(tenantId, username, password)).toMatchObject({
      allowed: false,
      reason: 'invalid-credentials',
    });
    const [report] = await db.query(`SELECT data FROM events WHERE stream_id = $1`, [
      `leak-report-${result.reportId}`,
    ]);
    expect(report.data).toMatchObject({ reporterIp: '198.51.100.7', recognised: 1 });
    expect(JSON.stringify(report.data)).not.toContain(password.replace(/ /g, '').slice(2, 18));
  });

  /** The stored LeakReported event of the report that revoked this app password (with its reason). */
  async function leakReportOf(appPasswordId: string) {
    const rows: { data: Record<string, unknown>; stream_id: string }[] = await db.query(
      `SELECT r.data, r.stream_id FROM events e JOIN events r
         ON r.stream_id = 'leak-report-' || (e.data ->> 'leakReportId') AND r.type = 'LeakReported'
       WHERE e.type = 'AppPasswordRevoked' AND e.data ->> 'appPasswordId' = $1`,
      [appPasswordId],
    );
    return rows;
  }

  /** Every stored trace of a report: its events and their outbox rows, as text. */
  async function storedTraces(reportId: string): Promise<string> {
    const rows = await db.query(
      `SELECT e.data, e.actor, o.* FROM events e LEFT JOIN outbox o ON o.event_seq = e.seq
       WHERE e.stream_id = $1 OR e.causation_id = $2`,
      [`leak-report-${reportId}`, reportId],
    );
    return JSON.stringify(rows);
  }

  it('B12: an app password sent as the source or User-Agent of a report is revoked, and stored nowhere', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const inSource = await create(tenantId, userId, 'Laptop');
    const inUserAgent = await create(tenantId, userId, 'Phone');
    const mistyped = (await create(tenantId, userId, 'Tablet')).password.replace(/ /g, '');
    const typo = `${mistyped.slice(0, 9)}${mistyped[9] === 'a' ? 'b' : 'a'}${mistyped.slice(10)}`;
    const result = await commands.execute(
      new ReportLeak('x', {
        clientIp: '198.51.100.8',
        userAgent: `scanner/1.0 (${inUserAgent.password})`,
        source: `${inSource.password} and https://paste.example/${typo}`,
      }),
    );
    expect(result).toMatchObject({ recognised: 2, revoked: 2 });
    for (const { password } of [inSource, inUserAgent])
      expect(await verify(tenantId, username, password)).toMatchObject({ allowed: false });
    const [report] = await leakReportOf(inSource.appPasswordId);
    expect(report.data).toMatchObject({
      reporterUserAgent: 'scanner/1.0 ([app password])',
      source: '[app password] and https://paste.example/[app password]',
    });
    const stored = await storedTraces(result.reportId);
    for (const letters of [inSource.password, inUserAgent.password, typo].map((p) => p.replace(/ /g, '')))
      expect(stored).not.toContain(letters.slice(2, 14));
  });

  it('B12: a report counts only the revocations it made, not one another request made first', async () => {
    const tenantId = await tenantWith();
    const { userId } = await mfaUser(tenantId);
    const { password, appPasswordId } = await create(tenantId, userId, 'Laptop');
    // The app password is deleted between the report's lookup and its revocation (a race with the
    // user, or with a second report of the same text): the revocation appends nothing.
    const execute = commands.execute.bind(commands);
    const spy = jest.spyOn(commands, 'execute').mockImplementation(async (command: unknown) => {
      if (command instanceof RunUserCommand && command.command.type === 'RevokeLeakedAppPassword') {
        await execute(
          new RunUserCommand(
            { type: 'DeleteAppPassword', data: { tenantId, userId, appPasswordId, by: 'admin' } },
            admin(tenantId),
          ),
        );
      }
      return execute(command as never);
    });
    try {
      const result = await commands.execute(
        new ReportLeak(password, { clientIp: '198.51.100.9', userAgent: null, source: null }),
      );
      expect(result).toMatchObject({ recognised: 1, revoked: 0 });
      const [report] = await db.query(`SELECT data FROM events WHERE stream_id = $1`, [
        `leak-report-${result.reportId}`,
      ]);
      expect(report.data).toMatchObject({ recognised: 1, revoked: [] });
    } finally {
      spy.mockRestore();
    }
  });

  it('B12: when a revocation commits but is not confirmed (503), the report is recorded all the same, with every revocation made', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await mfaUser(tenantId);
    const leaked = [
      await create(tenantId, userId, 'Laptop'),
      await create(tenantId, userId, 'Phone'),
      await create(tenantId, userId, 'Tablet'),
    ];
    const coherence = app.get(VerificationCoherence);
    const confirm = coherence.confirm.bind(coherence);
    let calls = 0;
    const spy = jest.spyOn(coherence, 'confirm').mockImplementation(async (...args) => {
      await confirm(...args);
      // The second revocation is committed, then one API instance does not acknowledge it in time.
      if (++calls === 2)
        throw new ProblemError(503, 'change-unconfirmed', 'Change not yet confirmed by every API instance');
    });
    try {
      await expect(
        commands.execute(
          new ReportLeak(leaked.map((p) => p.password).join('\n'), {
            clientIp: '198.51.100.10',
            userAgent: 'scanner/2.0',
            source: null,
          }),
        ),
      ).rejects.toMatchObject({ status: 503, slug: 'change-unconfirmed' });
    } finally {
      spy.mockRestore();
    }
    for (const { password } of leaked)
      expect(await verify(tenantId, username, password)).toMatchObject({ allowed: false });
    const [report] = await leakReportOf(leaked[0].appPasswordId);
    expect(report?.data).toMatchObject({ reporterIp: '198.51.100.10', reporterUserAgent: 'scanner/2.0' });
    expect((report.data.revoked as { appPasswordId: string }[]).map((r) => r.appPasswordId).sort()).toEqual(
      leaked.map((p) => p.appPasswordId).sort(),
    );
  });

  it("B2: a fast-path suspension stops a synced user's app passwords at once, before the directory sync disables the account", async () => {
    const tenantId = await tenantWith({ appPasswordsAllowed: true, fastPathOffboarding: true });
    const { userId, username } = await syncedMfaUser(tenantId);
    const { password } = await create(tenantId, userId, 'Phone');
    expect(await verify(tenantId, username, password)).toMatchObject({ allowed: true });

    const { events } = await as('hr', tenantId, {
      type: 'SuspendSignIns',
      data: { tenantId, userId, origin: 'hr', reason: 'HR offboarding' },
    });
    expect(events.map((e: { type: string }) => e.type)).toEqual(['UserSignInsSuspended']);
    // No wait: the suspension is in the read model verification reads, in the command's transaction.
    expect(await verify(tenantId, username, password)).toEqual({
      allowed: false,
      reason: 'account-suspended',
      rule: 'B2',
    });
    // Suspended, not disabled (the directory still owns that, R8) and nothing deleted.
    const [account] = await db.query(`SELECT status, sign_ins_suspended FROM accounts WHERE user_id = $1`, [
      userId,
    ]);
    expect(account).toEqual({ status: 'active', sign_ins_suspended: true });
    expect(await queries.execute(new ListAppPasswords(tenantId, userId))).toHaveLength(1);

    // The modelled sync lands later and applies as usual.
    const disabled = await as('sync-worker', tenantId, {
      type: 'DisableUser',
      data: { tenantId, userId, origin: 'directory-sync' },
    });
    expect(disabled.events.map((e: { type: string }) => e.type)).toEqual(['UserDisabled']);
    expect(await verify(tenantId, username, password)).toMatchObject({
      allowed: false,
      reason: 'account-disabled',
    });
    const stored = await db.query(`SELECT type FROM events WHERE stream_id = $1 ORDER BY version`, [
      `user-${userId}`,
    ]);
    expect(stored.map((e: { type: string }) => e.type).slice(-2)).toEqual([
      'UserSignInsSuspended',
      'UserDisabled',
    ]);
  });

  it("B2: without the tenant's opt-in a synced user is not suspended; an admin's resume restores a cloud user's", async () => {
    const tenantId = await tenantWith({ appPasswordsAllowed: true });
    const synced = await syncedMfaUser(tenantId);
    const syncedPassword = (await create(tenantId, synced.userId, 'Phone')).password;
    expect(
      await refusal(
        as('hr', tenantId, {
          type: 'SuspendSignIns',
          data: { tenantId, userId: synced.userId, origin: 'hr', reason: 'HR offboarding' },
        }),
      ),
    ).toBe('B2.fast-path-off');
    expect(await verify(tenantId, synced.username, syncedPassword)).toMatchObject({ allowed: true });

    const cloud = await mfaUser(tenantId);
    const { password } = await create(tenantId, cloud.userId, 'Laptop');
    await as('hr', tenantId, {
      type: 'SuspendSignIns',
      data: { tenantId, userId: cloud.userId, origin: 'hr', reason: 'HR offboarding' },
    });
    expect(await verify(tenantId, cloud.username, password)).toMatchObject({ reason: 'account-suspended' });
    await user(tenantId, {
      type: 'ResumeSignIns',
      data: { tenantId, userId: cloud.userId, origin: 'admin' },
    });
    expect(await verify(tenantId, cloud.username, password)).toMatchObject({ allowed: true });
  });

  it('R8: a rename follows the UPN: the old username no longer verifies, the new one does', async () => {
    const tenantId = await tenantWith();
    const { userId, username } = await syncedMfaUser(tenantId);
    const { password } = await create(tenantId, userId, 'Phone');
    const other = await mfaUser(tenantId);
    const newName = `renamed-${randomUUID().slice(0, 8)}@contoso.test`;

    // Another live user's name is refused, and nothing changes.
    expect(
      await refusal(
        as('sync-worker', tenantId, {
          type: 'RenameUser',
          data: { tenantId, userId, username: other.username.toUpperCase(), origin: 'directory-sync' },
        }),
      ),
    ).toBe('user.username-taken');
    expect(await verify(tenantId, username, password)).toMatchObject({ allowed: true });

    const { events } = await as('sync-worker', tenantId, {
      type: 'RenameUser',
      data: { tenantId, userId, username: newName.toUpperCase(), origin: 'directory-sync' },
    });
    expect(events).toEqual([
      {
        type: 'UserRenamed',
        data: expect.objectContaining({ username: newName, previousUsername: username }),
      },
    ]);
    expect(await verify(tenantId, username, password)).toMatchObject({
      allowed: false,
      reason: 'invalid-credentials',
    });
    expect(await verify(tenantId, newName, password)).toMatchObject({ allowed: true, userId });
    // The old name is free again for someone else.
    expect(await refusal(mfaUser(tenantId, username))).toBe('accepted');
  });
});
