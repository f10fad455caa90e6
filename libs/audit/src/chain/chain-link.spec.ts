import { createHash } from 'node:crypto';
import { canonicalEvent, chainLink, eventDigest, GENESIS_LINK, type ChainedEvent } from './chain-link';

const event: ChainedEvent = {
  seq: '42',
  id: '0b6f8a52-6d7e-4c1a-9a55-7a1f0d6f5e01',
  streamId: 'user-1',
  version: 3,
  type: 'AppPasswordCreated',
  schemaVersion: 1,
  tenantId: '5d1c1b6e-3f57-4a55-8f1e-1c9b9f6f2a10',
  actor: { kind: 'user', id: 'alice' },
  causationId: null,
  correlationId: '9b2f3d8e-0c4a-4f7e-9e1c-2a1d3b4c5d6e',
  data: { name: 'laptop', scopes: ['IMAP', 'SMTP'] },
  occurredAt: '2025-03-03T14:02:00.123456Z',
  recordedAt: '2025-03-03T14:02:00.124001Z',
};

describe('the chain link (B3)', () => {
  it('B3: link = SHA-256(previous link ‖ SHA-256(canonical event))', () => {
    const digest = createHash('sha256').update(canonicalEvent(event)).digest();
    expect(eventDigest(event).equals(digest)).toBe(true);
    const expected = createHash('sha256')
      .update(Buffer.concat([GENESIS_LINK, digest]))
      .digest();
    expect(chainLink(GENESIS_LINK, digest).equals(expected)).toBe(true);
  });

  it('B3: the serialisation is stable whatever the key order of data and actor', () => {
    const shuffled = {
      ...event,
      data: { scopes: ['IMAP', 'SMTP'], name: 'laptop' },
      actor: { id: 'alice', kind: 'user' },
    };
    expect(canonicalEvent(shuffled)).toBe(canonicalEvent(event));
  });

  it.each<[string, Partial<ChainedEvent>]>([
    ['seq', { seq: '43' }],
    ['id', { id: '0b6f8a52-6d7e-4c1a-9a55-7a1f0d6f5e02' }],
    ['stream id', { streamId: 'user-2' }],
    ['version', { version: 4 }],
    ['type', { type: 'AppPasswordRevoked' }],
    ['schema version', { schemaVersion: 2 }],
    ['tenant', { tenantId: null }],
    ['actor', { actor: { kind: 'admin', id: 'alice' } }],
    ['causation id', { causationId: '9b2f3d8e-0c4a-4f7e-9e1c-2a1d3b4c5d6e' }],
    ['correlation id', { correlationId: null }],
    ['data', { data: { name: 'laptop', scopes: ['SMTP', 'IMAP'] } }],
    ['occurred at (one microsecond)', { occurredAt: '2025-03-03T14:02:00.123457Z' }],
    ['recorded at', { recordedAt: '2025-03-03T14:02:01.124001Z' }],
  ])('B3: a change of the %s changes the digest', (_, change) => {
    expect(eventDigest({ ...event, ...change }).equals(eventDigest(event))).toBe(false);
  });

  it('B3: the same event after another previous link gives another link (order is bound in)', () => {
    const digest = eventDigest(event);
    const other = chainLink(GENESIS_LINK, eventDigest({ ...event, seq: '41' }));
    expect(chainLink(other, digest).equals(chainLink(GENESIS_LINK, digest))).toBe(false);
  });

  it('B3: refuses inputs that are not 32 bytes', () => {
    expect(() => chainLink(Buffer.alloc(31), eventDigest(event))).toThrow(RangeError);
  });
});
