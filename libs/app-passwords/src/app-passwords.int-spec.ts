import { randomUUID } from 'node:crypto';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { LatchkeyConfigModule } from '@latchkey/config';
import { migrate, PersistenceModule } from '@latchkey/persistence';
import { DataSource } from 'typeorm';
import { integrationConfig } from '../../../test/integration-config';
import { AppPasswordsModule } from './app-passwords.module';
import { CreateAppPasswordCommand, type CreatedAppPassword } from './app-passwords/create-app-password';
import { ListAppPasswords, type AppPasswordSummary } from './app-passwords/list-app-passwords';
import { DomainError } from './domain';
import type { CommandContext } from './infrastructure/event-sourced-streams';
import { ReportLeak } from './leak-reports/report-leak';
import { VerifySignIn, type SignInVerdict } from './sign-in/verify-sign-in.command';
import { RunTenantCommand } from './tenants/tenant-commands';
import { RunUserCommand, type UserCommandRequest } from './users/user-commands';

/** The application layer against the real PostgreSQL: commands, inline projections, verification. */
describe('app passwords (real PostgreSQL)', () => {
  let commands: CommandBus;
  let queries: QueryBus;
  let db: DataSource;
  let close: () => Promise<void>;

  beforeAll(async () => {
    await migrate(integrationConfig());
    const moduleRef = await Test.createTestingModule({
      imports: [LatchkeyConfigModule.forRoot(), PersistenceModule, AppPasswordsModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    commands = app.get(CommandBus);
    queries = app.get(QueryBus);
    db = app.get(DataSource);
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

  const user = (tenantId: string, command: UserCommandRequest) =>
    commands.execute(new RunUserCommand(command, admin(tenantId)));

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

    const recorded = await db.query(`SELECT type, data FROM events WHERE stream_id = $1 ORDER BY version`, [
      `sign-ins-${tenantId}`,
    ]);
    expect(recorded.map((e: { type: string }) => e.type)).toEqual([
      'LegacySignInSucceeded',
      'LegacySignInSucceeded',
      'LegacySignInFailed',
      'LegacySignInFailed',
    ]);
    expect(JSON.stringify(recorded)).not.toContain(created.password.replace(/ /g, ''));
    const [list] = (await queries.execute(new ListAppPasswords(tenantId, userId))) as AppPasswordSummary[];
    expect(list.lastUsed).toMatchObject({ clientIp: '192.0.2.10', protocol: 'IMAP' });
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
});
