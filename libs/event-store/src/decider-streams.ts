import { Injectable } from '@nestjs/common';
import { ConcurrencyError, type Actor, type EventEnvelope } from './event-envelope';
import { PostgresEventStore, type InlineProjection } from './postgres-event-store';
import { StreamMutex } from './stream-mutex';

/** A decider as the domains define it: pure decide and evolve over `{type, data}` events. */
export interface StreamDecider<Command, State, Event extends DomainEvent> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export interface DomainEvent {
  type: string;
  data: unknown;
}

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
 * ConcurrencyError surfaces as a 409. Writers of one stream in this process queue instead of
 * colliding.
 */
@Injectable()
export class DeciderStreams {
  private readonly mutex = new StreamMutex();

  constructor(private readonly store: PostgresEventStore) {}

  async execute<Command, State, Event extends DomainEvent>(request: {
    streamId: string;
    streamType: string;
    decider: StreamDecider<Command, State, Event>;
    schemaVersionOf: (type: Event['type']) => number;
    command: Command | ((state: State) => Command);
    context: CommandContext;
    occurredAt: Date;
    inline?: InlineProjection;
  }): Promise<Decision<State, Event>> {
    return this.mutex.run(request.streamId, async () => {
      for (let attempt = 1; ; attempt++) {
        const stored = await this.store.readStream(request.streamId);
        const state = fold(request.decider, stored);
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
              schemaVersion: request.schemaVersionOf(e.type),
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

  async load<State, Event extends DomainEvent>(
    streamId: string,
    decider: Pick<StreamDecider<unknown, State, Event>, 'evolve' | 'initialState'>,
  ): Promise<{ state: State; version: number; events: EventEnvelope[] }> {
    const stored = await this.store.readStream(streamId);
    return { state: fold(decider, stored), version: stored.length, events: stored };
  }
}

/** Stored envelopes → the domain's `{type, data}`, folded from the initial state. */
function fold<State, Event extends DomainEvent>(
  decider: Pick<StreamDecider<unknown, State, Event>, 'evolve' | 'initialState'>,
  stored: readonly EventEnvelope[],
): State {
  return stored.reduce(
    (state, e) => decider.evolve(state, { type: e.type, data: e.data } as Event),
    decider.initialState(),
  );
}
