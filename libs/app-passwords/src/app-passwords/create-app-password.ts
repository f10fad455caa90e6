import { randomUUID } from 'node:crypto';
import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { generateAppPassword, type LegacyProtocol } from '../domain';
import { AppPasswordHasher } from '../infrastructure/app-password-hasher';
import type { CommandContext } from '../infrastructure/event-sourced-streams';
import { RunUserCommand, type UserResult } from '../users/user-commands';

/** R2: the service generates the app password; the user only names it (R6) and may scope it (B11). */
export class CreateAppPasswordCommand {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
    readonly name: string,
    readonly protocols: string[] | undefined,
    readonly context: CommandContext,
  ) {}
}

/** The one-time reveal: the only place the secret ever leaves the service (R2). */
export interface CreatedAppPassword {
  appPasswordId: string;
  name: string;
  /** Grouped for reading (`lkab cdef …`); spaces are ignored when it is entered. */
  password: string;
  protocols: LegacyProtocol[] | null;
  createdAt: string;
  expiresAt: string | null;
}

@CommandHandler(CreateAppPasswordCommand)
export class CreateAppPasswordHandler implements ICommandHandler<
  CreateAppPasswordCommand,
  CreatedAppPassword
> {
  constructor(
    private readonly commands: CommandBus,
    private readonly hasher: AppPasswordHasher,
  ) {}

  async execute(command: CreateAppPasswordCommand): Promise<CreatedAppPassword> {
    const secret = generateAppPassword();
    const appPasswordId = randomUUID();
    const { events }: UserResult = await this.commands.execute(
      new RunUserCommand(
        {
          type: 'CreateAppPassword',
          data: {
            tenantId: command.tenantId,
            userId: command.userId,
            appPasswordId,
            name: command.name,
            protocols: command.protocols,
            verifier: this.hasher.verifierFor(secret.reveal()),
          },
        },
        command.context,
      ),
    );
    const created = events.find((e) => e.type === 'AppPasswordCreated');
    if (created?.type !== 'AppPasswordCreated') throw new Error('the user decider created no app password');
    const { name, protocols, createdAt, expiresAt } = created.data;
    return { appPasswordId, name, password: secret.display(), protocols, createdAt, expiresAt };
  }
}
