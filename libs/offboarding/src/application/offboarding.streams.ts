import { Injectable } from '@nestjs/common';
import {
  DeciderStreams,
  PostgresEventStore,
  type CommandContext,
  type EventEnvelope,
} from '@latchkey/event-store';
import type { EntityManager } from 'typeorm';
import {
  OFFBOARDING_EVENT_SCHEMA_VERSIONS,
  offboardingDecider,
  offboardingStreamId,
  type OffboardingCommand,
  type OffboardingEvent,
  type OffboardingState,
} from '../domain/offboarding';

/**
 * Runs commands on `offboarding-<id>` streams. The `offboardings` read model (idempotency keys, what
 * is still to be carried out) is written in the same transaction as the events.
 */
@Injectable()
export class OffboardingStreams {
  constructor(
    private readonly streams: DeciderStreams,
    private readonly store: PostgresEventStore,
  ) {}

  /** `requestHash`: the digest of the webhook body that asked for it (RequestOffboarding only). */
  execute(
    offboardingId: string,
    command: OffboardingCommand,
    context: CommandContext,
    occurredAt: Date,
    requestHash = '',
  ) {
    return this.streams.execute<OffboardingCommand, OffboardingState, OffboardingEvent>({
      streamId: offboardingStreamId(offboardingId),
      streamType: 'offboarding',
      decider: offboardingDecider,
      schemaVersionOf: (type) => OFFBOARDING_EVENT_SCHEMA_VERSIONS[type],
      command,
      context,
      occurredAt,
      inline: (tx, events) => offboardingsProjection(tx, events, requestHash),
    });
  }

  async load(offboardingId: string): Promise<OffboardingState> {
    return (await this.streams.load(offboardingStreamId(offboardingId), offboardingDecider)).state;
  }

  /** The stored events, with their envelopes (instants, actors), for the timeline. */
  events(offboardingId: string): Promise<EventEnvelope[]> {
    return this.store.readStream(offboardingStreamId(offboardingId));
  }
}

async function offboardingsProjection(
  tx: EntityManager,
  events: readonly EventEnvelope[],
  requestHash: string,
): Promise<void> {
  for (const envelope of events) {
    const event = { type: envelope.type, data: envelope.data } as OffboardingEvent;
    if (event.type === 'OffboardingRequested') {
      const { offboardingId, tenantId, idempotencyKey, effectiveAt, requestedAt } = event.data;
      await tx.query(
        `INSERT INTO offboardings (offboarding_id, tenant_id, idempotency_key, request_hash, effective_at, requested_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [offboardingId, tenantId, idempotencyKey, requestHash, effectiveAt, requestedAt],
      );
    } else if (event.type !== 'OffboardingFastPathApplied') {
      // Applied, written to AD or rejected: nothing is left for a job to do.
      await tx.query(
        `UPDATE offboardings SET settled_at = $2 WHERE offboarding_id = $1 AND settled_at IS NULL`,
        [event.data.offboardingId, envelope.occurredAt],
      );
    }
  }
}
