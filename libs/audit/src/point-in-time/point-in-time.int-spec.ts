import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import {
  AppPasswordsModule,
  CreateAppPasswordCommand,
  RunTenantCommand,
  RunUserCommand,
  signInStreamIds,
  VerifySignIn,
  type CommandContext,
  type CreatedAppPassword,
  type SignInVerdict,
  type UserCommandRequest,
} from '@latchkey/app-passwords';
import { DataSource } from 'typeorm';
import { startIntegrationAppAt } from '../../../../test/integration-app';
import { ManualClock } from '../../../../test/manual-clock';
import { PointInTimeQueries } from './point-in-time.queries';

const DAY_MS = 86_400_000;
const HOME = '192.0.2.10';
const ATTACKER = '198.51.100.66';

interface Asked {
  userId: string;
  /** The app password whose secret was presented; undefined for a made-up password. */
  appPasswordId: string | undefined;
}

/**
 * B4 against the real PostgreSQL and the real command bus: a history with verifications allowed and
 * refused for every reason verification has, then the point-in-time question for each recorded
 * attempt (its instant, protocol and client IP) must answer exactly what verification answered.
 */
describe('B4: point in time, against what verification answered (real PostgreSQL)', () => {
  const clock = new ManualClock();
  let commands: CommandBus;
  let db: DataSource;
  let queries: PointInTimeQueries;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = await startIntegrationAppAt(clock, AppPasswordsModule);
    commands = app.get(CommandBus);
    db = app.get(DataSource);
    queries = new PointInTimeQueries(db);
    close = () => app.close();
  });
  afterAll(() => close?.());

  it('B4: for every recorded attempt, "could it sign in then?" answers what verification answered, with the same reason', async () => {
    const tenantId = randomUUID();
    const admin: CommandContext = { tenantId, actor: { kind: 'admin', id: 'test-admin' } };
    const step = () => clock.advance(1_000);
    const tenant = async (patch: Record<string, unknown>) => {
      step();
      await commands.execute(
        new RunTenantCommand({ type: 'ChangeTenantPolicy', data: { tenantId, patch } }, admin),
      );
    };
    const user = async (command: UserCommandRequest) => {
      step();
      await commands.execute(new RunUserCommand(command, admin));
    };
    const mfaUser = async (label: string) => {
      const userId = randomUUID();
      const username = `${label}-${userId.slice(0, 8)}@contoso.test`;
      await user({
        type: 'ProvisionUser',
        data: { tenantId, userId, username, source: 'cloud', mfa: 'enforced', origin: 'admin' },
      });
      await user({ type: 'CompleteMfaRegistration', data: { tenantId, userId } });
      return { userId, username };
    };
    const create = async (userId: string, name: string, protocols?: string[]) => {
      step();
      const created: CreatedAppPassword = await commands.execute(
        new CreateAppPasswordCommand(tenantId, userId, name, protocols, {
          tenantId,
          actor: { kind: 'user', id: userId },
        }),
      );
      return created;
    };
    const asked = new Map<number, Asked>();
    const verify = async (
      who: { userId: string; username: string },
      password: { appPasswordId: string; password: string } | string,
      protocol = 'IMAP',
      clientIp = HOME,
    ) => {
      step();
      asked.set(clock.now().getTime(), {
        userId: who.userId,
        appPasswordId: typeof password === 'string' ? undefined : password.appPasswordId,
      });
      const verdict: SignInVerdict = await commands.execute(
        new VerifySignIn(
          tenantId,
          who.username,
          typeof password === 'string' ? password : password.password,
          protocol,
          'sign-in',
          clientIp,
        ),
      );
      return verdict.allowed ? 'allowed' : verdict.reason;
    };

    // A tenant with a low lockout threshold, so B8 is in the history too.
    step();
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: {
            tenantId,
            name: 'Contoso',
            policy: { appPasswordsAllowed: true, lockout: { threshold: 3 } },
          },
        },
        admin,
      ),
    );
    const alice = await mfaUser('alice');
    const bob = await mfaUser('bob');
    const carol = await mfaUser('carol');
    const laptop = await create(alice.userId, 'Laptop');
    const phone = await create(alice.userId, 'Phone', ['SMTP']);
    const old = await create(alice.userId, 'Old desktop');
    const bobs = await create(bob.userId, 'Bob laptop');
    const carols = await create(carol.userId, 'Carol laptop');

    // What verification answered, step by step; the point-in-time answers are checked against the
    // recorded attempts below, not against this list.
    const answered = [
      await verify(alice, laptop),
      await verify(alice, phone, 'IMAP'), // B11
      await verify(alice, phone, 'SMTP'),
      await verify(alice, laptop, 'POWERSHELL'), // R4
    ];
    await user({
      type: 'DeleteAppPassword',
      data: { tenantId, userId: alice.userId, appPasswordId: old.appPasswordId, by: 'user' },
    } as UserCommandRequest);
    answered.push(await verify(alice, old)); // revoked
    // B8: three different wrong passwords from one network lock it, and only it.
    for (const wrong of [
      'lkaa aaaa aaaa aaaa aaaa aaaa',
      'lkbb bbbb bbbb bbbb bbbb bbbb',
      'lkcc cccc cccc cccc cccc cccc',
    ]) {
      answered.push(await verify(alice, wrong, 'IMAP', ATTACKER));
    }
    answered.push(await verify(alice, laptop, 'IMAP', ATTACKER)); // locked
    answered.push(await verify(alice, laptop, 'IMAP', HOME));
    await user({ type: 'DisableUser', data: { tenantId, userId: bob.userId, origin: 'admin' } });
    answered.push(await verify(bob, bobs)); // R15
    await user({ type: 'EnableUser', data: { tenantId, userId: bob.userId, origin: 'admin' } });
    answered.push(await verify(bob, bobs));
    await user({
      type: 'SetModernAuthRequirement',
      data: { tenantId, userId: carol.userId, requiresModernAuth: true },
    });
    answered.push(await verify(carol, carols)); // R14
    await tenant({ legacyAuthBlocked: true });
    answered.push(await verify(alice, laptop)); // R13
    answered.push(await verify(bob, bobs)); // R13
    await tenant({ legacyAuthBlocked: false });
    answered.push(await verify(alice, laptop));
    // B7: a one-day lifetime, then a day and a second later.
    await tenant({ maxLifetimeDays: 1 });
    const tablet = await create(alice.userId, 'Tablet');
    answered.push(await verify(alice, tablet));
    clock.advance(DAY_MS);
    answered.push(await verify(alice, tablet)); // expired
    answered.push(await verify(alice, laptop)); // created before the limit, and older than it: cut short too
    await tenant({ maxLifetimeDays: 30 });
    answered.push(await verify(alice, laptop)); // the limit raised: it signs in again
    answered.push(await verify(alice, tablet)); // never past the expiry it was created with

    expect(answered).toEqual([
      'allowed',
      'protocol-not-allowed',
      'allowed',
      'administrative-action',
      'invalid-credentials',
      'invalid-credentials',
      'invalid-credentials',
      'invalid-credentials',
      'account-locked',
      'allowed',
      'account-disabled',
      'allowed',
      'modern-auth-required',
      'legacy-auth-blocked',
      'legacy-auth-blocked',
      'allowed',
      'allowed',
      'app-password-expired',
      'app-password-expired',
      'allowed',
      'app-password-expired',
    ]);

    // Every attempt as recorded (R9), then the question for each one whose app password is known.
    const recorded: {
      type: string;
      data: {
        userId: string | null;
        protocol: string;
        clientIp: string;
        reason: string | null;
        attemptedAt: string;
      };
    }[] = await db.query(
      `SELECT type, data FROM events WHERE stream_id = ANY($1::text[]) ORDER BY occurred_at, seq`,
      [signInStreamIds(tenantId)],
    );
    expect(recorded).toHaveLength(answered.length);
    const compared: string[] = [];
    for (const attempt of recorded) {
      const at = new Date(attempt.data.attemptedAt);
      const question = asked.get(at.getTime());
      expect(question).toBeDefined();
      // A made-up password is refused for the password itself, which the history cannot judge: those
      // attempts only feed the lockout that the next one is checked against.
      if (question?.appPasswordId === undefined) continue;
      const answer = await queries.signInCheck(tenantId, question.userId, {
        appPasswordId: question.appPasswordId,
        at,
        protocol: attempt.data.protocol,
        clientIp: attempt.data.clientIp,
      });
      const verdict = attempt.type === 'LegacySignInSucceeded' ? 'allowed' : attempt.data.reason;
      expect({ at: at.toISOString(), answer: answer.allowed ? 'allowed' : answer.reason }).toEqual({
        at: at.toISOString(),
        answer: verdict,
      });
      expect(answer.lockout.contradictions).toEqual([]);
      expect(answer.recordedAfter).toEqual([]);
      compared.push(verdict ?? 'allowed');
    }
    // Not vacuous: every reason of the history was compared.
    expect(new Set(compared)).toEqual(
      new Set([
        'allowed',
        'protocol-not-allowed',
        'administrative-action',
        'invalid-credentials',
        'account-locked',
        'account-disabled',
        'modern-auth-required',
        'legacy-auth-blocked',
        'app-password-expired',
      ]),
    );
  });

  it('B4: the state at an instant holds the policy, the user and each app password as they were, with their events', async () => {
    const tenantId = randomUUID();
    const admin: CommandContext = { tenantId, actor: { kind: 'admin', id: 'test-admin' } };
    clock.advance(1_000);
    await commands.execute(
      new RunTenantCommand(
        { type: 'CreateTenant', data: { tenantId, name: 'Fabrikam', policy: { appPasswordsAllowed: true } } },
        admin,
      ),
    );
    const userId = randomUUID();
    const run = async (command: UserCommandRequest) => {
      clock.advance(1_000);
      await commands.execute(new RunUserCommand(command, admin));
    };
    await run({
      type: 'ProvisionUser',
      data: {
        tenantId,
        userId,
        username: `dave-${userId.slice(0, 8)}@fabrikam.test`,
        source: 'cloud',
        mfa: 'enforced',
        origin: 'admin',
      },
    });
    await run({ type: 'CompleteMfaRegistration', data: { tenantId, userId } });
    clock.advance(1_000);
    const created: CreatedAppPassword = await commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, 'Laptop', ['IMAP'], {
        tenantId,
        actor: { kind: 'user', id: userId },
      }),
    );
    const beforeDisable = clock.now();
    await run({ type: 'DisableUser', data: { tenantId, userId, origin: 'admin' } });
    await run({ type: 'DeleteAllAppPasswords', data: { tenantId, userId } });

    const then = await queries.state(tenantId, userId, beforeDisable);
    expect(then.user).toMatchObject({ status: 'active', mfa: 'enforced', mfaRegistered: true });
    expect(then.appPasswords).toEqual([
      expect.objectContaining({
        appPasswordId: created.appPasswordId,
        protocols: ['IMAP'],
        status: 'active',
        revokedAt: null,
      }),
    ]);
    expect(then.tenant).toMatchObject({ status: 'created', policy: { appPasswordsAllowed: true } });

    const now = await queries.state(tenantId, userId, clock.now());
    expect(now.user).toMatchObject({ status: 'disabled', because: { status: { type: 'UserDisabled' } } });
    expect(now.appPasswords[0]).toMatchObject({ status: 'revoked', revokedReason: 'admin-deleted-all' });
    expect(JSON.stringify(now)).not.toMatch(/verifier/i);

    // Another tenant's caller, and an app password that is not this user's, are not found.
    await expect(queries.state(randomUUID(), userId, clock.now())).rejects.toMatchObject({
      code: 'user.not-found',
    });
    await expect(
      queries.signInCheck(tenantId, userId, {
        appPasswordId: randomUUID(),
        at: clock.now(),
        protocol: 'IMAP',
      }),
    ).rejects.toMatchObject({ code: 'app-password.not-found' });
  });
});
