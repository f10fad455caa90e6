/**
 * B4 works on the stored history only: events as the events table holds them, with their position
 * (seq), their stream version and both instants. Nothing here reads a database or a clock.
 */
export interface HistoricalEvent {
  /** The global position, as text (a bigint). */
  seq: string;
  streamId: string;
  version: number;
  type: string;
  data: unknown;
  occurredAt: Date;
  recordedAt: Date;
}

/** How an answer cites the event that made something so: never the event's data. */
export interface EventRef {
  seq: string;
  streamId: string;
  version: number;
  type: string;
  occurredAt: string;
  recordedAt: string;
}

export const refOf = (event: HistoricalEvent): EventRef => ({
  seq: event.seq,
  streamId: event.streamId,
  version: event.version,
  type: event.type,
  occurredAt: event.occurredAt.toISOString(),
  recordedAt: event.recordedAt.toISOString(),
});

/** A stream cut at an instant: what is folded, and what an auditor should know about the cut. */
export interface StreamAt {
  /** Folded, in stream order. */
  applied: HistoricalEvent[];
  /** Applied, though the store recorded them only after the instant (see `cutAt`). */
  recordedAfter: HistoricalEvent[];
  /** Claim an instant at or before the cut but follow, in the stream, an event after it: not applied. */
  outOfOrder: HistoricalEvent[];
}

/**
 * The events of one stream that hold at `at`.
 *
 * By occurred_at, not recorded_at. occurred_at is the instant the command was decided at, read from
 * the same injected clock that verification reads for its `now` and that B7's expiry instants are
 * computed from: a command acknowledged before a verification at T has occurred_at ≤ T, so this is
 * the timeline on which verification decided. recorded_at is PostgreSQL's clock_timestamp() at
 * insert: another clock (the database host's, not the service's, and not the test's injected one),
 * and it says when the store learned a fact, not when the fact held.
 *
 * Events recorded after T about a moment at or before T (occurred_at ≤ T < recorded_at) are applied:
 * the answer is what the history, as it reads today, says held at T. Here that gap is only an
 * append's latency (commands stamp their own clock reading), but a verification that ran inside it
 * did not yet see the fact; such events are listed in `recordedAfter` so the answer says where it
 * leans on them.
 *
 * A stream is decided in version order, each decision on the state before it, so a state at T is
 * always a prefix of the stream: it stops at the first event that occurred after T. A later event
 * claiming an earlier instant (clocks of two instances out of step) is not applied ahead of the
 * events it was decided after; it is listed in `outOfOrder` instead.
 */
export const cutAt = (events: readonly HistoricalEvent[], at: Date): StreamAt => {
  const ordered = [...events].sort((a, b) => a.version - b.version);
  const firstLater = ordered.findIndex((event) => event.occurredAt.getTime() > at.getTime());
  const applied = firstLater === -1 ? ordered : ordered.slice(0, firstLater);
  const rest = firstLater === -1 ? [] : ordered.slice(firstLater);
  return {
    applied,
    recordedAfter: applied.filter((event) => event.recordedAt.getTime() > at.getTime()),
    outOfOrder: rest.filter((event) => event.occurredAt.getTime() <= at.getTime()),
  };
};
