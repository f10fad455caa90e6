/**
 * A decider (Jérémie Chassaing's pattern, as in oskardudycz/EventSourcing.NodeJS samples/decider):
 * a command handler folds the stream with `evolve` from `initialState()`, asks `decide` for new events,
 * and appends them at the expected version. `decide` reads no clock and no randomness: time, ids and
 * generated values come in with the command.
 */
export interface Decider<Command, State, Event> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Folds a stream from the beginning. */
export const foldEvents = <State, Event>(
  decider: Pick<Decider<unknown, State, Event>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State => events.reduce(decider.evolve, decider.initialState());

/** Commands carry the instant they are decided at; events store it as an ISO-8601 string. */
export interface CommandMetadata {
  now: Date;
}
