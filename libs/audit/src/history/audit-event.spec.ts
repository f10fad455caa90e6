import type { EventRow } from '@latchkey/event-store';
import { exportErrorLine, redactedData, toAuditEvent, toNdjson } from './audit-event';

const verifier = { algorithm: 'hmac-sha256', keyId: 'k1', hash: 'A'.repeat(43) + '=' };
const created = {
  userId: 'u',
  appPasswordId: 'p',
  name: 'phone',
  protocols: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  expiresAt: null,
  verifier,
};

const row = (type: string, data: unknown): EventRow => ({
  seq: '9007199254740993', // past Number.MAX_SAFE_INTEGER: must survive as written
  id: 'e',
  stream_id: 'user-u',
  version: 3,
  type,
  schema_version: 1,
  tenant_id: 't',
  actor: { kind: 'user', id: 'u' },
  causation_id: null,
  correlation_id: 'c',
  data,
  occurred_at: new Date('2025-01-01T00:00:00Z'),
  recorded_at: new Date('2025-01-01T00:00:01Z'),
});

describe('audit event envelope and redaction', () => {
  it('PRODUCT §5: an AppPasswordCreated loses its verifier, as on Kafka, and keeps everything else', () => {
    const { verifier: _stripped, ...rest } = created;
    expect(redactedData('AppPasswordCreated', created)).toEqual(rest);
    expect(JSON.stringify(toAuditEvent(row('AppPasswordCreated', created)))).not.toMatch(
      /verifier|hmac|AAAA/,
    );
  });

  it('other events are passed on as stored, and odd AppPasswordCreated data does not throw', () => {
    const data = { userId: 'u', origin: 'admin', disabledAt: 'x' };
    expect(redactedData('UserDisabled', data)).toBe(data);
    expect(redactedData('AppPasswordCreated', null)).toBeNull();
    expect(redactedData('AppPasswordCreated', 'text')).toBe('text');
  });

  it('the envelope has the seq as a string, ISO instants, and no tenant', () => {
    expect(toAuditEvent(row('UserDisabled', {}))).toEqual({
      seq: '9007199254740993',
      id: 'e',
      streamId: 'user-u',
      version: 3,
      type: 'UserDisabled',
      schemaVersion: 1,
      actor: { kind: 'user', id: 'u' },
      causationId: null,
      correlationId: 'c',
      data: {},
      occurredAt: '2025-01-01T00:00:00.000Z',
      recordedAt: '2025-01-01T00:00:01.000Z',
    });
  });

  it('NDJSON is one line per event and the error line is told apart by its top-level error member', () => {
    const events = [toAuditEvent(row('A', { text: 'line\nbreak' })), toAuditEvent(row('B', {}))];
    const lines = toNdjson(events).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((line) => JSON.parse(line).type)).toEqual(['A', 'B']);
    const error = JSON.parse(exportErrorLine('req-1'));
    expect(error.error).toMatchObject({ title: 'Export interrupted', requestId: 'req-1' });
    expect(events.every((event) => !('error' in event))).toBe(true);
  });
});
