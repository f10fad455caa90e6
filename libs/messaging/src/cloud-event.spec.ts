import type { EventEnvelope } from '@latchkey/event-store';
import { fromCloudEventMessage, toCloudEventMessage } from './cloud-event';

const event: EventEnvelope = {
  seq: 42n,
  id: '6f1c1a5e-9a43-4c4e-9a43-7f0c1a5e9a43',
  streamId: 'user-0b7d',
  version: 3,
  type: 'AppPasswordRevoked',
  schemaVersion: 1,
  tenantId: '11111111-2222-3333-4444-555555555555',
  actor: { kind: 'admin', id: 'sub:with:colons' },
  causationId: null,
  correlationId: 'c0ffee00-0000-4000-8000-000000000000',
  data: { appPasswordId: 'ap-1', reason: 'admin-deleted-it' },
  occurredAt: new Date('2026-03-03T14:02:00.000Z'),
  recordedAt: new Date('2026-03-03T14:02:00.005Z'),
};

describe('CloudEvents binary mode on Kafka', () => {
  it('keys by stream, carries the envelope as ce_ headers and the data as the value', () => {
    const message = toCloudEventMessage(event, event.data);
    expect(message.key).toBe('user-0b7d');
    expect(message.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: event.id,
      ce_type: 'latchkey.AppPasswordRevoked.v1',
      ce_subject: 'user-0b7d',
      ce_time: '2026-03-03T14:02:00.000Z',
      ce_tenantid: event.tenantId,
      'content-type': 'application/json',
    });
    expect(message.headers).not.toHaveProperty('ce_causationid');
  });

  it('round-trips every envelope field', () => {
    const message = toCloudEventMessage(event, event.data);
    const headers = Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]),
    );
    expect(fromCloudEventMessage({ value: Buffer.from(String(message.value)), headers })).toEqual(event);
  });

  it('refuses a message that is not a Latchkey CloudEvent', () => {
    expect(() => fromCloudEventMessage({ value: Buffer.from('{}'), headers: { ce_type: 'other' } })).toThrow(
      /not a Latchkey CloudEvent/,
    );
  });
});
