import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { DomainError, RunUserCommand, type UserCommandRequest } from '@latchkey/app-passwords';
import { directorySyncDecider, userCommandsFor, type ApplyDueChange } from '../domain';
import { DirectorySyncStreams } from './directory-sync.streams';

/**
 * Applies a due directory change (R8: only now does the cloud see it; R15: a disable stops the
 * user's app passwords, a delete deletes them). The user commands run first and are idempotent,
 * then the change is recorded as applied: a crash in between runs the job again, which repeats
 * the commands harmlessly and records the change once.
 */
@Injectable()
export class ChangeApplier {
  constructor(
    private readonly streams: DirectorySyncStreams,
    private readonly commands: CommandBus,
  ) {}

  async apply(tenantId: string, changeId: string, now: Date): Promise<'applied' | 'nothing-to-do'> {
    const command: ApplyDueChange = {
      type: 'ApplyDueChange',
      data: { tenantId, changeId },
      metadata: { now },
    };
    // Decide without appending first, to know what the cloud must do (throws R8.not-yet-due early).
    const preview = directorySyncDecider.decide(command, await this.streams.load(tenantId));
    const applied = preview.find((e) => e.type === 'DirectoryChangeApplied');
    if (!applied || applied.type !== 'DirectoryChangeApplied') return 'nothing-to-do';

    const context = { tenantId, actor: { kind: 'sync-worker' as const }, causationId: changeId };
    for (const userCommand of userCommandsFor(tenantId, applied.data.actions, now).commands) {
      const request = { type: userCommand.type, data: userCommand.data } as UserCommandRequest;
      try {
        await this.commands.execute(new RunUserCommand(request, context));
      } catch (error) {
        // A retried provision finds its user already there: that is this command, done before.
        const alreadyDone =
          error instanceof DomainError && error.kind === 'conflict' && request.type === 'ProvisionUser';
        if (!alreadyDone) throw error;
      }
    }
    await this.streams.execute(tenantId, command, context, now);
    return 'applied';
  }
}
