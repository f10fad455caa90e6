import { Injectable } from '@nestjs/common';
import {
  DeciderStreams,
  StreamMutex,
  type CommandContext,
  type Decision,
  type InlineProjection,
} from '@latchkey/event-store';
import {
  DIRECTORY_SYNC_EVENT_SCHEMA_VERSIONS,
  directorySyncDecider,
  directorySyncStreamId,
  type DirectorySyncCommand,
  type DirectorySyncEvent,
  type DirectorySyncState,
} from '../domain';

type Command = DirectorySyncCommand | ((state: DirectorySyncState) => DirectorySyncCommand);

/** Appends to the tenant's stream from inside `exclusive`. */
export type DirectorySyncExecute = (
  command: Command,
  context: CommandContext,
  occurredAt: Date,
  inline?: InlineProjection,
) => Promise<Decision<DirectorySyncState, DirectorySyncEvent>>;

/** Runs commands on a tenant's `directory-sync-<tenantId>` stream. */
@Injectable()
export class DirectorySyncStreams {
  /** Per tenant: commands wait while `exclusive` work runs (in this process). */
  private readonly tenants = new StreamMutex();

  constructor(private readonly streams: DeciderStreams) {}

  execute(
    tenantId: string,
    command: Command,
    context: CommandContext,
    occurredAt: Date,
    inline?: InlineProjection,
  ): Promise<Decision<DirectorySyncState, DirectorySyncEvent>> {
    return this.tenants.run(tenantId, () => this.decide(tenantId, command, context, occurredAt, inline));
  }

  /**
   * Runs `work` while no other command of the tenant is decided in this process; `work` appends
   * through the `execute` it is given. The change applier decides, runs user commands, then
   * appends: a pass recorded in between would decide against a cloud that has already changed
   * (e.g. cancel as "no net change" a change whose disable has just run).
   */
  exclusive<T>(tenantId: string, work: (execute: DirectorySyncExecute) => Promise<T>): Promise<T> {
    return this.tenants.run(tenantId, () =>
      work((command, context, occurredAt, inline) =>
        this.decide(tenantId, command, context, occurredAt, inline),
      ),
    );
  }

  async load(tenantId: string): Promise<DirectorySyncState> {
    return (await this.streams.load(directorySyncStreamId(tenantId), directorySyncDecider, true)).state;
  }

  private decide(
    tenantId: string,
    command: Command,
    context: CommandContext,
    occurredAt: Date,
    inline?: InlineProjection,
  ): Promise<Decision<DirectorySyncState, DirectorySyncEvent>> {
    return this.streams.execute<DirectorySyncCommand, DirectorySyncState, DirectorySyncEvent>({
      streamId: directorySyncStreamId(tenantId),
      streamType: 'directory-sync',
      decider: directorySyncDecider,
      schemaVersionOf: (type) => DIRECTORY_SYNC_EVENT_SCHEMA_VERSIONS[type],
      command,
      context,
      occurredAt,
      inline,
      // The stream grows with every pass: fold only what is new since the last command.
      cacheState: true,
    });
  }
}
