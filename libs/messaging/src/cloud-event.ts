import type { IHeaders, Message } from 'kafkajs';
import type { Actor, EventEnvelope } from '@latchkey/event-store';

/**
 * Events travel on Kafka as CloudEvents 1.0 in binary mode: the attributes are `ce_*` headers,
 * the value is the event's data as JSON, and the key is the stream id so that one stream's events
 * stay in order on one partition. Extension attributes carry the rest of the envelope (PRODUCT §5).
 */
export const CLOUD_EVENT_SOURCE = 'urn:latchkey';

export function toCloudEventMessage(event: EventEnvelope, data: unknown): Message {
  const headers: IHeaders = {
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_source: CLOUD_EVENT_SOURCE,
    ce_type: `latchkey.${event.type}.v${event.schemaVersion}`,
    ce_subject: event.streamId,
    ce_time: event.occurredAt.toISOString(),
    'content-type': 'application/json',
    ce_sequence: event.seq.toString(),
    ce_streamversion: String(event.version),
    ce_recordedtime: event.recordedAt.toISOString(),
    ce_actor: event.actor.id ? `${event.actor.kind}:${event.actor.id}` : event.actor.kind,
  };
  if (event.tenantId) headers.ce_tenantid = event.tenantId;
  if (event.correlationId) headers.ce_correlationid = event.correlationId;
  if (event.causationId) headers.ce_causationid = event.causationId;
  return { key: event.streamId, value: JSON.stringify(data), headers };
}

/** The inverse, for consumers: the envelope (without the store's transaction details) and data. */
export function fromCloudEventMessage(message: { value: Buffer | null; headers?: IHeaders }): EventEnvelope {
  const header = (name: string) => {
    const value = message.headers?.[name];
    return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
  };
  const required = (name: string) => {
    const value = header(name);
    if (value === undefined) throw new Error(`not a Latchkey CloudEvent: missing ${name}`);
    return value;
  };
  const match = /^latchkey\.(.+)\.v(\d+)$/.exec(required('ce_type'));
  if (header('ce_specversion') !== '1.0' || !match) throw new Error('not a Latchkey CloudEvent 1.0');
  const [kind, ...id] = required('ce_actor').split(':');
  return {
    seq: BigInt(required('ce_sequence')),
    id: required('ce_id'),
    streamId: required('ce_subject'),
    version: Number(required('ce_streamversion')),
    type: match[1],
    schemaVersion: Number(match[2]),
    tenantId: header('ce_tenantid') ?? null,
    actor: { kind: kind as Actor['kind'], ...(id.length ? { id: id.join(':') } : {}) },
    causationId: header('ce_causationid') ?? null,
    correlationId: header('ce_correlationid') ?? null,
    data: message.value ? JSON.parse(message.value.toString('utf8')) : null,
    occurredAt: new Date(required('ce_time')),
    recordedAt: new Date(required('ce_recordedtime')),
  };
}
