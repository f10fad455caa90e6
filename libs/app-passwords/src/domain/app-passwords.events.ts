import { TENANT_EVENT_SCHEMA_VERSIONS, TenantEvent } from './tenant.events';
import { USER_EVENT_SCHEMA_VERSIONS, UserEvent } from './user.events';

/** Every event of the app-passwords context. */
export type AppPasswordsEvent = TenantEvent | UserEvent;
export type AppPasswordsEventType = AppPasswordsEvent['type'];

/** The schema version each event type is written with today. */
export const EVENT_SCHEMA_VERSIONS: Readonly<Record<AppPasswordsEventType, number>> = Object.freeze({
  ...TENANT_EVENT_SCHEMA_VERSIONS,
  ...USER_EVENT_SCHEMA_VERSIONS,
});

export const TENANT_EVENT_TYPES = Object.keys(TENANT_EVENT_SCHEMA_VERSIONS) as TenantEvent['type'][];
export const USER_EVENT_TYPES = Object.keys(USER_EVENT_SCHEMA_VERSIONS) as UserEvent['type'][];

export const isTenantEventType = (type: string): type is TenantEvent['type'] =>
  Object.hasOwn(TENANT_EVENT_SCHEMA_VERSIONS, type);
export const isUserEventType = (type: string): type is UserEvent['type'] =>
  Object.hasOwn(USER_EVENT_SCHEMA_VERSIONS, type);

/** An event as it may leave PostgreSQL (outbox → Kafka): nothing secret-derived in it. */
export type PublishableEvent =
  | Exclude<AppPasswordsEvent, { type: 'AppPasswordCreated' }>
  | {
      type: 'AppPasswordCreated';
      data: Omit<Extract<UserEvent, { type: 'AppPasswordCreated' }>['data'], 'verifier'>;
    };

/** PRODUCT §5: verifier hashes stay in PostgreSQL. The outbox stores and relays this form. */
export const toPublishableEvent = (event: AppPasswordsEvent): PublishableEvent => {
  if (event.type !== 'AppPasswordCreated') return event;
  const { verifier: _verifier, ...data } = event.data;
  return { type: event.type, data };
};
