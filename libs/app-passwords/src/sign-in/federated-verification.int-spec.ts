import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import { stack } from '../../../../test/stack';
import { startIntegrationApp } from '../../../../test/integration-app';
import { AppPasswordsModule } from '../app-passwords.module';
import { CreateAppPasswordCommand, type CreatedAppPassword } from '../app-passwords/create-app-password';
import { RunTenantCommand } from '../tenants/tenant-commands';
import { RunUserCommand } from '../users/user-commands';
import { VerifySignIn, type SignInVerdict } from './verify-sign-in.command';

/** R7: verification never contacts the on-premises directory, so it works while the directory is down. */
describe('R7: federated users’ app passwords are verified here, bypassing federation', () => {
  let commands: CommandBus;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = await startIntegrationApp(AppPasswordsModule);
    commands = app.get(CommandBus);
    close = () => app.close();
  });
  afterAll(async () => {
    stack('up', 'samba');
    await close?.();
  });

  it('R7: a synced user signs in with an app password while Active Directory is stopped', async () => {
    const tenantId = randomUUID();
    const userId = randomUUID();
    const username = `fed-${userId.slice(0, 8)}@latchkey.test`;
    const admin = { tenantId, actor: { kind: 'admin' as const } };
    const sync = { tenantId, actor: { kind: 'sync-worker' as const } };
    await commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: { tenantId, name: 'Federated', policy: { appPasswordsAllowed: true } },
        },
        admin,
      ),
    );
    await commands.execute(
      new RunUserCommand(
        {
          type: 'ProvisionUser',
          data: { tenantId, userId, username, source: 'synced', mfa: 'enforced', origin: 'directory-sync' },
        },
        sync,
      ),
    );
    await commands.execute(
      new RunUserCommand({ type: 'CompleteMfaRegistration', data: { tenantId, userId } }, admin),
    );
    const { password }: CreatedAppPassword = await commands.execute(
      new CreateAppPasswordCommand(tenantId, userId, 'Outlook 2010', undefined, admin),
    );

    stack('down', 'samba');
    const verdict: SignInVerdict = await commands.execute(
      new VerifySignIn(tenantId, username, password, 'EAS', 'sign-in', '192.0.2.44'),
    );
    expect(verdict).toMatchObject({ allowed: true, userId });
  }, 120_000);
});
