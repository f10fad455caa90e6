import { Injectable } from '@nestjs/common';
import {
  ConcurrencyError,
  PostgresEventStore,
  type Actor,
  type EventEnvelope,
  type InlineProjection,
} from '@latchkey/event-store';
import { EVENT_SCHEMA_VERSIONS, foldEvents, type AppPasswordsEvent, type Decider } from '../domain';
import { StreamMutex } from './stream-mutex';

/** Who asks, for which tenant, within which request: stamped on every event appended. */
export interface CommandContext {
  tenantId: string | null;
  actor: Actor;
  correlationId?: string;
  causationId?: string;
}

export interface Decision<State, Event> {
  /** Events appended by this command, with their envelopes (empty when nothing changed). */
  appended: EventEnvelope[];
  /** The domain events decided. */
  events: Event[];
  /** The state after the command. */
  state: State;
  /** The stream's version after the command (its ETag). */
  version: number;
}

const MAX_ATTEMPTS = 5;

/**
 * Runs a command against an event-sourced stream: read, fold, decide, append at the version read.
 * Another process may append in between; then the command is decided again on the new state (a
 * refusal may follow, e.g. R3's limit), never applied twice. After MAX_ATTEMPTS the
 * ConcurrencyError surfaces as a 409.
 */
@Injectable()
export class EventSourcedStreams {
  private readonly mutex = new StreamMutex();

  constructor(private readonly store: PostgresEventStore) {}

  async execute<Command, State, Event extends AppPasswordsEvent>(request: {
    streamId: string;
    streamType: 'tenant' | 'user';
    decider: Decider<Command, State, Event>;
    command: Command | ((state: State) => Command);
    context: CommandContext;
    occurredAt: Date;
    inline?: InlineProjection;
  }): Promise<Decision<State, Event>> {
    return this.mutex.run(request.streamId, async () => {
      for (let attempt = 1; ; attempt++) {
        const stored = await this.store.readStream(request.streamId);
        const state = foldEvents(
          request.decider,
          stored.map((e) => toDomainEvent<Event>(e)),
        );
        const command =
          typeof request.command === 'function'
            ? (request.command as (state: State) => Command)(state)
            : request.command;
        const events = request.decider.decide(command, state);
        if (events.length === 0) return { appended: [], events, state, version: stored.length };
        try {
          const appended = await this.store.append({
            streamId: request.streamId,
            streamType: request.streamType,
            expectedVersion: stored.length,
            events: events.map((e) => ({
              type: e.type,
              schemaVersion: EVENT_SCHEMA_VERSIONS[e.type],
              data: e.data,
            })),
            context: { ...request.context, occurredAt: request.occurredAt },
            inline: request.inline,
          });
          const after = events.reduce(request.decider.evolve, state);
          return { appended, events, state: after, version: stored.length + events.length };
        } catch (error) {
          if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
        }
      }
    });
  }

  async load<State, Event extends AppPasswordsEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, State, Event>, 'evolve' | 'initialState'>,
  ): Promise<{ state: State; version: number }> {
    const stored = await this.store.readStream(streamId);
    return {
      state: foldEvents(
        decider,
        stored.map((e) => toDomainEvent<Event>(e)),
      ),
      version: stored.length,
    };
  }
}

/** Stored envelope → the domain's `{type, data}` (one schema version so far: no upcasting yet). */
export function toDomainEvent<Event extends AppPasswordsEvent>(envelope: EventEnvelope): Event {
  return { type: envelope.type, data: envelope.data } as Event;
}
