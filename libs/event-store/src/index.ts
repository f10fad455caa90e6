export {
  ConcurrencyError,
  type Actor,
  type AppendContext,
  type EventEnvelope,
  type ExpectedVersion,
  type NewEvent,
} from './event-envelope';
export { PostgresEventStore, type AppendRequest, type InlineProjection } from './postgres-event-store';
