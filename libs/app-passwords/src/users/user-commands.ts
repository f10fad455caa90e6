import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ConcurrencyError } from '@latchkey/event-store';
import { DataSource, type EntityManager } from 'typeorm';
import {
  ConflictError,
  NotFoundError,
  userDecider,
  tenantStreamId,
  userStreamId,
  type TenantPolicy,
  type UserCommand,
  type UserEvent,
  type UserState,
} from '../domain';
import { Clock } from '../infrastructure/clock';
import { CredentialsProjection } from '../infrastructure/credentials.projection';
import { EventSourcedStreams, type CommandContext } from '../infrastructure/event-sourced-streams';

/** A user command as the edge builds it: the handler adds the instant and, where a rule needs it, the tenant's policy. */
export type UserCommandRequest = UserCommand extends infer C
  ? C extends { type: infer T; data: infer D }
    ? { type: T; data: Omit<D, 'tenantPolicy'> }
    : never
  : never;

export class RunUserCommand {
  constructor(
    readonly command: UserCommandRequest,
    readonly context: CommandContext,
  ) {}
}

export interface UserResult {
  state: UserState;
  events: UserEvent[];
  version: number;
}

const NEEDS_POLICY = new Set<UserCommand['type']>([
  'CompleteMfaRegistration',
  'ResetPassword',
  'CreateAppPassword',
  'DeleteAppPassword',
  'SuspendSignIns',
]);

/**
 * Runs any command of the user aggregate (the user and their app passwords). Rules that depend on
 * the tenant (R3, R10, R11, R12, B2, B6, B7) get its policy, read from the tenants read model.
 * A username another live user of the tenant holds (ProvisionUser, RenameUser) is refused by the
 * accounts read model's unique index, inside the append's transaction: `user.username-taken`.
 */
@CommandHandler(RunUserCommand)
export class RunUserCommandHandler implements ICommandHandler<RunUserCommand, UserResult> {
  constructor(
    private readonly db: DataSource,
    private readonly streams: EventSourcedStreams,
    private readonly projection: CredentialsProjection,
    private readonly clock: Clock,
  ) {}

  async execute({ command, context }: RunUserCommand): Promise<UserResult> {
    const now = this.clock.now();
    const streamId = userStreamId(command.data.userId);
    // The policy as last read: the decision is made on it, and the append commits only while it is
    // still the tenant's (see tenantUnchanged). A retry decides again on the one the check found.
    let tenant = await this.tenant(command);
    try {
      const decision = await this.streams.execute({
        streamId,
        streamType: 'user',
        decider: userDecider,
        command: () =>
          ({
            type: command.type,
            data: { ...command.data, tenantPolicy: tenant?.policy },
            metadata: { now },
          }) as UserCommand,
        context,
        occurredAt: now,
        inline: async (tx, events) => {
          if (tenant) {
            const current = await tenantUnchanged(tx, command.data.tenantId, tenant);
            if (current) {
              const decidedOn = tenant.version;
              tenant = current;
              throw new ConcurrencyError(tenantStreamId(command.data.tenantId), decidedOn);
            }
          }
          await this.projection.apply(tx, events);
        },
      });
      return { state: decision.state, events: decision.events, version: decision.version };
    } catch (error) {
      if (isUniqueViolation(error, 'accounts_live_username')) {
        throw new ConflictError(
          'user.username-taken',
          undefined,
          'Another user of this tenant has that username.',
        );
      }
      throw error;
    }
  }

  /**
   * The tenant's policy from its read model: one row, written in the same transaction as each
   * tenant event, so exactly as fresh as folding the tenant's stream, without reading every
   * policy change it ever had on each command.
   */
  private async tenant(command: UserCommandRequest): Promise<TenantAsRead | undefined> {
    if (!NEEDS_POLICY.has(command.type) && command.type !== 'ProvisionUser') return undefined;
    const [tenant]: { policy: TenantPolicy; version: number }[] = await this.db.query(
      `SELECT policy, stream_version AS version FROM tenants WHERE tenant_id = $1`,
      [command.data.tenantId],
    );
    if (!tenant) throw new NotFoundError('tenant.not-found', 'There is no such tenant.');
    return tenant;
  }
}

interface TenantAsRead {
  policy: TenantPolicy;
  version: number;
}

/**
 * R10, R3, R12, B6, B7: a decision made on a policy that changed before it committed must not land
 * (an auditor replaying the history would find a creation made after creation was forbidden). Inside
 * the append's transaction, the tenant's row is share-locked: a policy change still in flight is
 * waited for, and one that starts now waits for this append. Returns the tenant as it is now if its
 * policy moved since `read` (the caller decides again), else nothing.
 */
async function tenantUnchanged(
  tx: EntityManager,
  tenantId: string,
  read: TenantAsRead,
): Promise<TenantAsRead | undefined> {
  const [now]: TenantAsRead[] = await tx.query(
    `SELECT policy, stream_version AS version FROM tenants WHERE tenant_id = $1 FOR SHARE`,
    [tenantId],
  );
  return now.version === read.version ? undefined : now;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })?.driverError;
  return driverError?.code === '23505' && driverError.constraint === constraint;
}
