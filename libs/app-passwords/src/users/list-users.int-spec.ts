import { randomUUID } from 'node:crypto';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { startIntegrationApp } from '../../../../test/integration-app';
import { GetMyAppPasswordPolicy, type MyAppPasswordPolicy } from '../app-passwords/app-password-policy';
import { CreateAppPasswordCommand } from '../app-passwords/create-app-password';
import { AppPasswordsModule } from '../app-passwords.module';
import type { CommandContext } from '../infrastructure/event-sourced-streams';
import { RunTenantCommand } from '../tenants/tenant-commands';
import { ListUsers, type UserPage } from './list-users';
import { RunUserCommand, type UserCommandRequest } from './user-commands';

/** The admin's list of users and the user's own policy, read from the real read models. */
describe('users page and app-password policy (real PostgreSQL)', () => {
  let commands: CommandBus;
  let queries: QueryBus;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = await startIntegrationApp(AppPasswordsModule);
    commands = app.get(CommandBus);
    queries = app.get(QueryBus);
    close = () => app.close();
  });
  afterAll(() => close?.());

  const admin = (tenantId: string): CommandContext => ({ tenantId, actor: { kind: 'admin', id: 'test' } });
  const run = (tenantId: string, command: UserCommandRequest) =>
    commands.execute(new RunUserCommand(command, admin(tenantId)));

  async function tenantWith(policy: Record<string, unknown>) {
    const tenantId = randomUUID();
    await commands.execute(
      new RunTenantCommand(
        { type: 'CreateTenant', data: { tenantId, name: 'Contoso', policy } },
        admin(tenantId),
      ),
    );
    return tenantId;
  }

  async function provision(tenantId: string, username: string, registered = true) {
    const userId = randomUUID();
    await run(tenantId, {
      type: 'ProvisionUser',
      data: { tenantId, userId, username, source: 'cloud', mfa: 'enforced', origin: 'admin' },
    });
    if (registered) await run(tenantId, { type: 'CompleteMfaRegistration', data: { tenantId, userId } });
    return userId;
  }

  const createAppPassword = (tenantId: string, userId: string, name: string) =>
    commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, name, undefined, {
        tenantId,
        actor: { kind: 'user', id: userId },
      }),
    );

  const page = (tenantId: string, limit: number, prefix?: string, cursor?: string): Promise<UserPage> =>
    queries.execute(new ListUsers(tenantId, limit, prefix, cursor));

  it('walks every live user once, in username order, a page at a time, with their app-password counts', async () => {
    const tenantId = await tenantWith({ appPasswordsAllowed: true });
    const names = ['erin', 'alice', 'dave', 'carol', 'bob'].map((n) => `${n}@contoso.test`);
    const ids: Record<string, string> = {};
    for (const name of names) ids[name] = await provision(tenantId, name);
    await createAppPassword(tenantId, ids['carol@contoso.test'], 'Phone');
    await createAppPassword(tenantId, ids['carol@contoso.test'], 'Laptop');
    const gone = await provision(tenantId, 'zed@contoso.test');
    await run(tenantId, { type: 'DeleteUser', data: { tenantId, userId: gone, origin: 'admin' } });
    await provision(await tenantWith({}), 'aaron@contoso.test'); // another tenant's user

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await page(tenantId, 2, undefined, cursor);
      seen.push(...answer.items.map((u) => u.username));
      cursor = answer.next ?? undefined;
      pages++;
    } while (cursor);
    expect(seen).toEqual([...names].sort());
    expect(pages).toBe(3);
    const carol = (await page(tenantId, 50, 'carol')).items;
    expect(carol).toEqual([
      {
        userId: ids['carol@contoso.test'],
        username: 'carol@contoso.test',
        source: 'cloud',
        status: 'active',
        mfa: 'enforced',
        mfaRegistered: true,
        signInsSuspended: false,
        appPasswordCount: 2,
      },
    ]);
  });

  it('takes % and _ in a prefix literally', async () => {
    const tenantId = await tenantWith({});
    for (const name of [
      'a_b@contoso.test',
      'axb@contoso.test',
      '50%off@contoso.test',
      '50xoff@contoso.test',
    ]) {
      await provision(tenantId, name, false);
    }
    expect((await page(tenantId, 50, 'a_')).items.map((u) => u.username)).toEqual(['a_b@contoso.test']);
    expect((await page(tenantId, 50, '50%')).items.map((u) => u.username)).toEqual(['50%off@contoso.test']);
    expect((await page(tenantId, 50, '%')).items).toEqual([]);
  });

  it('R10, R1, R3, B7: the policy that applies to the user, from the read models', async () => {
    const tenantId = await tenantWith({
      appPasswordsAllowed: true,
      maxAppPasswordsPerUser: 1,
      maxLifetimeDays: 30,
    });
    const ready = await provision(tenantId, 'ready@contoso.test');
    const policyOf = (userId: string): Promise<MyAppPasswordPolicy | undefined> =>
      queries.execute(new GetMyAppPasswordPolicy(tenantId, userId));
    expect(await policyOf(ready)).toMatchObject({ canCreate: true, maxLifetimeDays: 30, reasons: [] });
    await createAppPassword(tenantId, ready, 'Phone');
    expect(await policyOf(ready)).toMatchObject({
      canCreate: false,
      liveAppPasswords: 1,
      reasons: [{ rule: 'R3', code: 'R3.limit-reached' }],
    });
    const unregistered = await provision(tenantId, 'new@contoso.test', false);
    expect(await policyOf(unregistered)).toMatchObject({
      mfaRegistered: false,
      reasons: [{ rule: 'R1', code: 'R1.mfa-not-registered' }],
    });
    await commands.execute(
      new RunTenantCommand(
        { type: 'ChangeTenantPolicy', data: { tenantId, patch: { appPasswordsAllowed: false } } },
        admin(tenantId),
      ),
    );
    expect(await policyOf(ready)).toMatchObject({
      appPasswordsAllowed: false,
      canDelete: false,
      reasons: [{ rule: 'R10' }, { rule: 'R3' }],
    });
    expect(await policyOf(randomUUID())).toBeUndefined();
    expect(await queries.execute(new GetMyAppPasswordPolicy(randomUUID(), ready))).toBeUndefined();
  });
});
