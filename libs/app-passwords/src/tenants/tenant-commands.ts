import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  tenantDecider,
  tenantStreamId,
  type ChangeTenantPolicy,
  type CreateTenant,
  type TenantPolicyPatch,
  type TenantState,
} from '../domain';
import { Clock } from '../infrastructure/clock';
import { CredentialsProjection } from '../infrastructure/credentials.projection';
import { EventSourcedStreams, type CommandContext } from '../infrastructure/event-sourced-streams';

type TenantCommandData =
  | { type: 'CreateTenant'; data: CreateTenant['data'] }
  | { type: 'ChangeTenantPolicy'; data: { tenantId: string; patch: TenantPolicyPatch } };

/** Creates a tenant or changes its policy (R3, R10, R13, B6, B7, B8): one stream per tenant. */
export class RunTenantCommand {
  constructor(
    readonly command: TenantCommandData,
    readonly context: CommandContext,
  ) {}
}

export interface TenantResult {
  state: TenantState;
  version: number;
  changed: boolean;
}

@CommandHandler(RunTenantCommand)
export class RunTenantCommandHandler implements ICommandHandler<RunTenantCommand, TenantResult> {
  constructor(
    private readonly streams: EventSourcedStreams,
    private readonly projection: CredentialsProjection,
    private readonly clock: Clock,
  ) {}

  async execute({ command, context }: RunTenantCommand): Promise<TenantResult> {
    const now = this.clock.now();
    const decision = await this.streams.execute({
      streamId: tenantStreamId(command.data.tenantId),
      streamType: 'tenant',
      decider: tenantDecider,
      command: { ...command, metadata: { now } } as CreateTenant | ChangeTenantPolicy,
      context,
      occurredAt: now,
      inline: this.projection.apply,
    });
    return { state: decision.state, version: decision.version, changed: decision.events.length > 0 };
  }
}
