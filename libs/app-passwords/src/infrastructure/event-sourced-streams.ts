import { Injectable } from '@nestjs/common';
import {
  DeciderStreams,
  type CommandContext,
  type Decision,
  type EventEnvelope,
  type InlineProjection,
} from '@latchkey/event-store';
import { EVENT_SCHEMA_VERSIONS, type AppPasswordsEvent, type Decider } from '../domain';
import { invalidationsOf, narrowsSignIns } from './verification/invalidations';
import { VerificationCoherence } from './verification/verification-coherence';

export type { CommandContext, Decision } from '@latchkey/event-store';

/**
 * The event store's decider runner, with this context's event schema versions filled in. A change
 * that verification reads is announced to the verification replicas in its transaction; one that can
 * stop a sign-in returns only once every replica has confirmed it (VerificationCoherence): from then
 * on no instance answers a verification from the state before it.
 */
@Injectable()
export class EventSourcedStreams {
  constructor(
    private readonly streams: DeciderStreams,
    private readonly coherence: VerificationCoherence,
  ) {}

  async execute<Command, State, Event extends AppPasswordsEvent>(request: {
    streamId: string;
    streamType: 'tenant' | 'user';
    decider: Decider<Command, State, Event>;
    command: Command | ((state: State) => Command);
    context: CommandContext;
    occurredAt: Date;
    inline?: InlineProjection;
  }): Promise<Decision<State, Event>> {
    const { inline } = request;
    let announcedAt: Date | undefined;
    const decision = await this.streams.execute({
      ...request,
      schemaVersionOf: (type) => EVENT_SCHEMA_VERSIONS[type],
      inline: async (tx, events) => {
        await inline?.(tx, events);
        const invalidations = invalidationsOf(events);
        if (invalidations.length === 0) return;
        const [announced]: { at: Date }[] = await tx.query(
          ...VerificationCoherence.announcement(invalidations),
        );
        announcedAt = announced.at;
      },
    });
    // From what was appended, not from what the inline step last saw: a retried attempt's
    // announcement rolled back with it, and a retry that appends nothing announces nothing.
    const invalidations = invalidationsOf(decision.appended);
    // Nothing to do (the change was made already, perhaps a moment ago by another request whose
    // command is still waiting for the replicas): this answers "done" too, so it waits as long.
    if (decision.appended.length === 0) await this.coherence.barrier(request.context.tenantId);
    else if (narrowsSignIns(decision.appended))
      await this.coherence.confirm(
        invalidations.map((invalidation) => invalidation.token),
        announcedAt,
      );
    // Widening only: other instances catch up within milliseconds, this one before answering, so a
    // password created here verifies here at once.
    else this.coherence.applyHere(invalidations);
    return decision;
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
