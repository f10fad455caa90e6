import { Injectable } from '@nestjs/common';
import { DeciderStreams, type CommandContext, type InlineProjection } from '@latchkey/event-store';
import {
  DIRECTORY_SYNC_EVENT_SCHEMA_VERSIONS,
  directorySyncDecider,
  directorySyncStreamId,
  type DirectorySyncCommand,
  type DirectorySyncEvent,
  type DirectorySyncState,
} from '../domain';

/** Runs commands on a tenant's `directory-sync-<tenantId>` stream. */
@Injectable()
export class DirectorySyncStreams {
  constructor(private readonly streams: DeciderStreams) {}

  execute(
    tenantId: string,
    command: DirectorySyncCommand | ((state: DirectorySyncState) => DirectorySyncCommand),
    context: CommandContext,
    occurredAt: Date,
    inline?: InlineProjection,
  ) {
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

  async load(tenantId: string): Promise<DirectorySyncState> {
    return (await this.streams.load(directorySyncStreamId(tenantId), directorySyncDecider, true)).state;
  }
}
