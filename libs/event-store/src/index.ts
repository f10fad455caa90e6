export {
  ConcurrencyError,
  type Actor,
  type AppendContext,
  type EventEnvelope,
  type ExpectedVersion,
  type NewEvent,
} from './event-envelope';
export {
  eventColumns,
  PostgresEventStore,
  toEnvelope,
  type AppendRequest,
  type EventRow,
  type InlineProjection,
} from './postgres-event-store';
export {
  DeciderStreams,
  type CommandContext,
  type Decision,
  type DomainEvent,
  type StreamDecider,
} from './decider-streams';
export { StreamMutex } from './stream-mutex';
