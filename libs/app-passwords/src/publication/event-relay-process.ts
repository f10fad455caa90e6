/** Which process the relay and the Kafka read models run in (EVENT_RELAY_IN). */
export type EventRelayProcess = 'api' | 'sync-worker';
/** Injects the process a module was imported into: `EventPublicationModule.in(process)`. */
export const EVENT_RELAY_PROCESS = Symbol('EVENT_RELAY_PROCESS');
