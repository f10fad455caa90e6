import { Injectable } from '@nestjs/common';
import {
  DeciderStreams,
  type CommandContext,
  type Decision,
  type EventEnvelope,
  type InlineProjection,
} from '@latchkey/event-store';
import { EVENT_SCHEMA_VERSIONS, type AppPasswordsEvent, type Decider } from '../domain';

export type { CommandContext, Decision } from '@latchkey/event-store';

/** The event store's decider runner, with this context's event schema versions filled in. */
@Injectable()
export class EventSourcedStreams {
  constructor(private readonly streams: DeciderStreams) {}

  execute<Command, State, Event extends AppPasswordsEvent>(request: {
    streamId: string;
    streamType: 'tenant' | 'user';
    decider: Decider<Command, State, Event>;
    command: Command | ((state: State) => Command);
    context: CommandContext;
    occurredAt: Date;
    inline?: InlineProjection;
  }): Promise<Decision<State, Event>> {
    return this.streams.execute({ ...request, schemaVersionOf: (type) => EVENT_SCHEMA_VERSIONS[type] });
  }

  async load<State, Event extends AppPasswordsEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, State, Event>, 'evolve' | 'initialState'>,
  ): Promise<{ state: State; version: number }> {
    const { state, version } = await this.streams.load(streamId, decider);
    return { state, version };
  }
}

/** Stored envelope → the domain's `{type, data}` (one schema version so far: no upcasting yet). */
export function toDomainEvent<Event extends AppPasswordsEvent>(envelope: EventEnvelope): Event {
  return { type: envelope.type, data: envelope.data } as Event;
}
