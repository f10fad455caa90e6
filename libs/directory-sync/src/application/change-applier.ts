import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { DomainError, RunUserCommand, type UserCommandRequest } from '@latchkey/app-passwords';
import { describeFailure } from '@latchkey/runtime';
import {
  directorySyncDecider,
  dueChanges,
  isRefusalCode,
  MAX_APPLY_BATCH,
  userCommandsFor,
  type ApplyDueChanges,
  type CloudAction,
  type DirectoryChangeApplied,
  type DirectorySyncEvent,
} from '../domain';
import { DirectorySyncStreams, type DirectorySyncExecute } from './directory-sync.streams';

/**
 * Changes whose user commands run at once. Each change concerns another user (another stream), so
 * they do not collide; the bound keeps the database pool (10 connections) for the rest.
 */
const USER_COMMAND_CONCURRENCY = 8;

/**
 * Applies a tenant's due directory changes (R8: only now does the cloud see them; R15: a disable
 * stops the user's app passwords, a delete deletes them; B6: an on-premises password reset revokes
 * them if the tenant opted in, the command handler reading its policy), up to MAX_APPLY_BATCH per
 * decision and append. For each batch the user commands run first and are idempotent (a reset names
 * its pwdLastSet, so it is recorded once), then the batch is recorded as applied: a crash in between
 * runs the job again, which repeats the commands harmlessly and records each change once.
 */
@Injectable()
export class ChangeApplier {
  private readonly logger = new Logger(ChangeApplier.name);

  constructor(
    private readonly streams: DirectorySyncStreams,
    private readonly commands: CommandBus,
  ) {}

  /**
   * Applies every change of the tenant that is due by `now()`, soonest first, batch after batch
   * until none is left; returns how many were recorded (applied, or cancelled as no longer changing
   * anything). A change whose user commands fail stays scheduled while the others go on; then this
   * throws, so that the job is retried.
   */
  async applyDue(tenantId: string, now: () => Date): Promise<number> {
    const failed = new Set<string>();
    let recorded = 0;
    for (;;) {
      const batch = await this.streams.exclusive(tenantId, (execute) =>
        this.applyBatch(tenantId, now, failed, execute),
      );
      if (batch === undefined) break;
      recorded += batch;
    }
    if (failed.size > 0) {
      throw new Error(`${failed.size} due change(s) of tenant ${tenantId} could not be applied yet`);
    }
    return recorded;
  }

  /** One batch; undefined when nothing (but failed changes) is due. */
  private async applyBatch(
    tenantId: string,
    now: () => Date,
    failed: Set<string>,
    execute: DirectorySyncExecute,
  ): Promise<number | undefined> {
    const state = await this.streams.load(tenantId);
    const startedAt = now();
    const due = dueChanges(state, startedAt)
      .filter((change) => !failed.has(change.changeId))
      .slice(0, MAX_APPLY_BATCH)
      .map((change) => change.changeId);
    if (due.length === 0) return undefined;
    const command = (changeIds: string[], at: Date): ApplyDueChanges => ({
      type: 'ApplyDueChanges',
      data: { tenantId, changeIds },
      metadata: { now: at },
    });
    // Decide without appending first, to know what the cloud must do.
    const applied = directorySyncDecider.decide(command(due, startedAt), state).filter(isApplied);
    const partial: { changeId: string; landed: number; failure: string }[] = [];
    await inParallel(applied, USER_COMMAND_CONCURRENCY, async ({ data }) => {
      const outcome = await this.runUserCommands(tenantId, data.changeId, data.actions, startedAt);
      if (outcome.landed === data.actions.length) return;
      failed.add(data.changeId);
      this.logger.warn(
        `change ${data.changeId} of tenant ${tenantId}: ${outcome.landed} of ${data.actions.length} ` +
          `actions reached the cloud, then ${describeFailure(outcome.error)}`,
      );
      if (outcome.landed > 0) {
        partial.push({
          changeId: data.changeId,
          landed: outcome.landed,
          failure: failureCode(outcome.error),
        });
      }
    });
    // What did land is recorded, so that every later decision about these objects knows it (a
    // disable that landed stays known when the rename after it is refused); each stays scheduled.
    for (const { changeId, landed, failure } of partial) {
      const at = now();
      try {
        await execute(
          {
            type: 'RecordPartialApplication',
            data: { tenantId, changeId, landed, failure },
            metadata: { now: at },
          },
          { tenantId, actor: { kind: 'sync-worker' } },
          at,
        );
      } catch (error) {
        // Not recorded, the change's retry runs its commands again, which changes nothing that landed.
        this.logger.warn(
          `change ${changeId} of tenant ${tenantId}: partial landing not recorded: ${describeFailure(error)}`,
        );
      }
    }
    const done = due.filter((changeId) => !failed.has(changeId));
    if (done.length === 0) return 0;
    // Recorded as applied when the cloud has seen them all: after the batch's user commands.
    const appliedAt = now();
    const { events } = await execute(
      command(done, appliedAt),
      { tenantId, actor: { kind: 'sync-worker' } },
      appliedAt,
    );
    return events.length;
  }

  /**
   * Runs the user commands of `actions` in order, action by action, until one is refused: how many
   * actions landed, and the refusal (none when all did).
   */
  private async runUserCommands(
    tenantId: string,
    changeId: string,
    actions: CloudAction[],
    now: Date,
  ): Promise<{ landed: number; error?: unknown }> {
    const context = { tenantId, actor: { kind: 'sync-worker' as const }, causationId: changeId };
    for (const [index, action] of actions.entries()) {
      for (const userCommand of userCommandsFor(tenantId, [action], now).commands) {
        const request = { type: userCommand.type, data: userCommand.data } as UserCommandRequest;
        try {
          await this.commands.execute(new RunUserCommand(request, context));
        } catch (error) {
          // A retried provision finds its user already there: that is this command, done before. Only
          // that: a username another cloud user holds (user.username-taken) is not this user's
          // provision done, and the change must stay pending where an admin sees it, not be recorded.
          const alreadyDone =
            error instanceof DomainError &&
            error.code === 'user.already-exists' &&
            request.type === 'ProvisionUser';
          if (!alreadyDone) return { landed: index, error };
        }
      }
    }
    return { landed: actions.length };
  }
}

/** A refusal's stable code for the record (never its message, which may quote input). */
const failureCode = (error: unknown): string =>
  error instanceof DomainError && isRefusalCode(error.code) ? error.code : 'error';

const isApplied = (event: DirectorySyncEvent): event is DirectoryChangeApplied =>
  event.type === 'DirectoryChangeApplied';

/** Runs `work` on every item, at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
