/** Who caused an event (PRODUCT §5). `id` is a user id, an admin's subject, a webhook's key id… */
export interface Actor {
  kind: 'user' | 'admin' | 'hr' | 'sync-worker' | 'system' | 'gateway' | 'reporter';
  id?: string;
}

/** An event as the domain emits it: a stable type string, its schema version and plain JSON data. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  schemaVersion?: number;
  data: Data;
  /** When this event's fact happened, if not the append's `occurredAt` (batched appends). */
  occurredAt?: Date;
}

/** What the caller knows about every event of one append. */
export interface AppendContext {
  tenantId: string | null;
  actor: Actor;
  /** When the fact happened, from the injected clock (never read during a replay). */
  occurredAt: Date;
  correlationId?: string;
  causationId?: string;
}

/** A stored event with its full envelope. */
export interface EventEnvelope<Type extends string = string, Data = unknown> {
  seq: bigint;
  id: string;
  streamId: string;
  version: number;
  type: Type;
  schemaVersion: number;
  tenantId: string | null;
  actor: Actor;
  causationId: string | null;
  correlationId: string | null;
  data: Data;
  occurredAt: Date;
  recordedAt: Date;
}

/**
 * The version the caller saw: a number (0 means the stream must not exist yet), or 'any' for
 * streams where concurrent appends cannot conflict.
 */
export type ExpectedVersion = number | 'any';

export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
  ) {
    super(`stream ${streamId} is not at version ${expected}`);
  }
}
