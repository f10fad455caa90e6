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
  /** Folded states of long streams kept between commands (opt-in: `cacheState`), by stream id. */
  private readonly snapshots = new Map<string, { version: number; state: unknown }>();

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
    /**
     * Keep the folded state in memory and read only the events after it next time: for a stream
     * that grows long (a directory's sync), where refolding it for every command would cost
     * O(length). Only for deciders whose decide does not change the state it is given.
     */
    cacheState?: boolean;
  }): Promise<Decision<State, Event>> {
    return this.mutex.run(request.streamId, async () => {
      for (let attempt = 1; ; attempt++) {
        const { state, version } = await this.current(request.streamId, request.decider, request.cacheState);
        const command =
          typeof request.command === 'function'
            ? (request.command as (state: State) => Command)(state)
            : request.command;
        const events = request.decider.decide(command, state);
        if (events.length === 0) return { appended: [], events, state, version };
        try {
          const appended = await this.store.append({
            streamId: request.streamId,
            streamType: request.streamType,
            expectedVersion: version,
            events: events.map((e) => ({
              type: e.type,
              schemaVersion: request.schemaVersionOf(e.type),
              data: e.data,
            })),
            context: { ...request.context, occurredAt: request.occurredAt },
            inline: request.inline,
          });
          const after = events.reduce(request.decider.evolve, state);
          if (request.cacheState) {
            this.snapshots.set(request.streamId, { version: version + events.length, state: after });
          }
          return { appended, events, state: after, version: version + events.length };
        } catch (error) {
          if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
        }
      }
    });
  }

  async load<State, Event extends DomainEvent>(
    streamId: string,
    decider: Pick<StreamDecider<unknown, State, Event>, 'evolve' | 'initialState'>,
    cacheState = false,
  ): Promise<{ state: State; version: number }> {
    return cacheState
      ? this.mutex.run(streamId, () => this.current(streamId, decider, true))
      : this.current(streamId, decider, false);
  }

  /** The stream's state now: from the snapshot plus the events after it, or folded from the start. */
  private async current<State, Event extends DomainEvent>(
    streamId: string,
    decider: Pick<StreamDecider<unknown, State, Event>, 'evolve' | 'initialState'>,
    cacheState = false,
  ): Promise<{ state: State; version: number }> {
    const snapshot = cacheState ? this.snapshots.get(streamId) : undefined;
    const from = snapshot?.version ?? 0;
    const newer = await this.store.readStream(streamId, from);
    const state = newer.reduce(
      (folded, e) => decider.evolve(folded, { type: e.type, data: e.data } as Event),
      (snapshot?.state as State | undefined) ?? decider.initialState(),
    );
    const version = from + newer.length;
    if (cacheState) this.snapshots.set(streamId, { version, state });
    return { state, version };
  }
}
