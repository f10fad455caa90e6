import { randomUUID } from 'node:crypto';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { startIntegrationAppAt } from '../../../../test/integration-app';
import { ManualClock } from '../../../../test/manual-clock';
import { AppPasswordsModule } from '../app-passwords.module';
import type { CommandContext } from '../infrastructure/event-sourced-streams';
import { RunTenantCommand } from '../tenants/tenant-commands';
import { VerifySignIn, type SignInVerdict } from '../sign-in/verify-sign-in.command';
import { RunUserCommand } from '../users/user-commands';
import { GetMyAppPasswordPolicy, type MyAppPasswordPolicy } from './app-password-policy';
import { CreateAppPasswordCommand } from './create-app-password';
import { ListAppPasswords, type AppPasswordSummary } from './list-app-passwords';

const DAY_MS = 86_400_000;

describe('B7: expiry as the service tells time (real PostgreSQL)', () => {
  const clock = new ManualClock();
  let commands: CommandBus;
  let queries: QueryBus;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = await startIntegrationAppAt(clock, AppPasswordsModule);
    commands = app.get(CommandBus);
    queries = app.get(QueryBus);
    close = () => app.close();
  });
  afterAll(() => close?.());

  /** A tenant with `policy`, one cloud user registered for MFA, and that user's commands and queries. */
  const tenantWithUser = async (policy: Record<string, unknown>) => {
    const tenantId = randomUUID();
    const userId = randomUUID();
    const username = `b7-${userId.slice(0, 8)}@contoso.test`;
    const admin: CommandContext = { tenantId, actor: { kind: 'admin', id: 'test-admin' } };
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: { tenantId, name: 'Contoso', policy: { appPasswordsAllowed: true, ...policy } },
        },
        admin,
      ),
    );
    await commands.execute(
      new RunUserCommand(
        {
          type: 'ProvisionUser',
          data: { tenantId, userId, username, source: 'cloud', mfa: 'enforced', origin: 'admin' },
        },
        admin,
      ),
    );
    await commands.execute(
      new RunUserCommand({ type: 'CompleteMfaRegistration', data: { tenantId, userId } }, admin),
    );
    return {
      create: (name: string): Promise<{ password: string; createdAt: string; expiresAt: string | null }> =>
        commands.execute(
          new CreateAppPasswordCommand(tenantId, userId, name, undefined, {
            tenantId,
            actor: { kind: 'user', id: userId },
          }),
        ),
      list: (): Promise<AppPasswordSummary[]> => queries.execute(new ListAppPasswords(tenantId, userId)),
      policy: (): Promise<MyAppPasswordPolicy> =>
        queries.execute(new GetMyAppPasswordPolicy(tenantId, userId)),
      verify: (password: string): Promise<SignInVerdict> =>
        commands.execute(new VerifySignIn(tenantId, username, password, 'IMAP', 'sign-in', '192.0.2.7')),
      setMaxLifetimeDays: (maxLifetimeDays: number | null) =>
        commands.execute(
          new RunTenantCommand(
            { type: 'ChangeTenantPolicy', data: { tenantId, patch: { maxLifetimeDays } } },
            admin,
          ),
        ),
    };
  };

  it('B7, R3: the list and the user’s policy call an app password expired when the decider does (regression: they asked PostgreSQL’s clock)', async () => {
    const { create, list, policy } = await tenantWithUser({ maxLifetimeDays: 1, maxAppPasswordsPerUser: 1 });

    await create('Laptop');
    expect((await list()).map((p) => p.expired)).toEqual([false]);
    expect(await policy()).toMatchObject({ liveAppPasswords: 1, canCreate: false });

    // Two days on by the service's clock: the laptop's password has expired, and the limit of one
    // has room again, as the decider sees it.
    clock.advance(2 * DAY_MS);
    expect((await list()).map((p) => p.expired)).toEqual([true]);
    expect(await policy()).toMatchObject({ liveAppPasswords: 0, canCreate: true });
    await expect(create('Phone')).resolves.toMatchObject({ name: 'Phone' });
  });

  it('B7, R3: a lowered maximum lifetime stops existing app passwords older than it, everywhere, though they keep their place under the limit; raised again, they work until their own expiry', async () => {
    const { create, list, policy, verify, setMaxLifetimeDays } = await tenantWithUser({
      maxLifetimeDays: 90,
      maxAppPasswordsPerUser: 1,
    });
    const laptop = await create('Laptop');
    const createdAt = Date.parse(laptop.createdAt);
    expect(Date.parse(laptop.expiresAt!)).toBe(createdAt + 90 * DAY_MS);
    expect(await verify(laptop.password)).toMatchObject({ allowed: true });
    expect(await verify(laptop.password)).toMatchObject({ allowed: true }); // from the replica's memory

    clock.advance(40 * DAY_MS);
    await setMaxLifetimeDays(30); // after a scare: nothing may live beyond 30 days, old ones included
    expect(await verify(laptop.password)).toEqual({
      allowed: false,
      reason: 'app-password-expired',
      rule: 'B7',
    });
    expect(await list()).toEqual([
      expect.objectContaining({ expired: true, expiresAt: new Date(createdAt + 30 * DAY_MS).toISOString() }),
    ]);
    // Still the user's until deleted: raising the maximum would bring it back, so it keeps its slot
    // of the limit of one (R3) and its name (R6).
    expect(await policy()).toMatchObject({ liveAppPasswords: 1, canCreate: false });
    await expect(create('Phone')).rejects.toMatchObject({ rule: 'R3' });

    // Raised again, it signs in, but only until the expiry it was created with.
    await setMaxLifetimeDays(365);
    expect(await verify(laptop.password)).toMatchObject({ allowed: true });
    expect(await list()).toEqual([expect.objectContaining({ expired: false, expiresAt: laptop.expiresAt })]);
    expect(await policy()).toMatchObject({ liveAppPasswords: 1, canCreate: false });
    await setMaxLifetimeDays(null);
    clock.advance(50 * DAY_MS);
    expect(await verify(laptop.password)).toMatchObject({ allowed: false, reason: 'app-password-expired' });
  });
});
