import { randomUUID } from 'node:crypto';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { startIntegrationAppAt } from '../../../../test/integration-app';
import { ManualClock } from '../../../../test/manual-clock';
import { AppPasswordsModule } from '../app-passwords.module';
import type { CommandContext } from '../infrastructure/event-sourced-streams';
import { RunTenantCommand } from '../tenants/tenant-commands';
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

  it('B7, R3: the list and the user’s policy call an app password expired when the decider does (regression: they asked PostgreSQL’s clock)', async () => {
    const tenantId = randomUUID();
    const userId = randomUUID();
    const admin: CommandContext = { tenantId, actor: { kind: 'admin', id: 'test-admin' } };
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: {
            tenantId,
            name: 'Contoso',
            policy: { appPasswordsAllowed: true, maxLifetimeDays: 1, maxAppPasswordsPerUser: 1 },
          },
        },
        admin,
      ),
    );
    await commands.execute(
      new RunUserCommand(
        {
          type: 'ProvisionUser',
          data: {
            tenantId,
            userId,
            username: `b7-${userId.slice(0, 8)}@contoso.test`,
            source: 'cloud',
            mfa: 'enforced',
            origin: 'admin',
          },
        },
        admin,
      ),
    );
    await commands.execute(
      new RunUserCommand({ type: 'CompleteMfaRegistration', data: { tenantId, userId } }, admin),
    );
    const create = (name: string) =>
      commands.execute(
        new CreateAppPasswordCommand(tenantId, userId, name, undefined, {
          tenantId,
          actor: { kind: 'user', id: userId },
        }),
      );
    const list = (): Promise<AppPasswordSummary[]> => queries.execute(new ListAppPasswords(tenantId, userId));
    const policy = (): Promise<MyAppPasswordPolicy> =>
      queries.execute(new GetMyAppPasswordPolicy(tenantId, userId));

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
});
