import { decodeUsnWatermark, encodeUsnWatermark, guidString } from './usn-watermark';

describe('uSN watermark codec', () => {
  const invocationId = '43037a05-f26e-412e-80af-42d85d0198f7';

  it('round-trips, 64-bit USNs included, as small versioned JSON', () => {
    for (const usn of [0n, 12_975n, 2n ** 53n + 1n, 2n ** 63n - 1n]) {
      const cookie = encodeUsnWatermark({ invocationId, usn });
      expect(decodeUsnWatermark(cookie)).toEqual({ invocationId, usn });
    }
    expect(JSON.parse(encodeUsnWatermark({ invocationId, usn: 42n }).toString('utf8'))).toEqual({
      format: 'latchkey.usn-watermark',
      v: 1,
      invocationId,
      usn: '42',
    });
  });

  it('refuses to write what it could not read back', () => {
    expect(() => encodeUsnWatermark({ invocationId: 'not-a-guid', usn: 1n })).toThrow(/GUID/);
    expect(() => encodeUsnWatermark({ invocationId, usn: -1n })).toThrow(/USN/);
    expect(() => encodeUsnWatermark({ invocationId, usn: 2n ** 63n })).toThrow(/USN/);
  });

  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const valid = { format: 'latchkey.usn-watermark', v: 1, invocationId, usn: '42' };
  it.each([
    ['no cookie', undefined],
    ['an empty cookie (a pass that stored none)', Buffer.alloc(0)],
    ['a DirSync cookie', Buffer.concat([Buffer.from('MSDS'), Buffer.alloc(60, 1)])],
    ['text that is not JSON', Buffer.from('{"format":')],
    ['JSON null', json(null)],
    ['a JSON array', json([valid])],
    ['another format', json({ ...valid, format: 'something-else' })],
    ['another version', json({ ...valid, v: 2 })],
    [
      'an invocationId that is not a canonical GUID',
      json({ ...valid, invocationId: invocationId.toUpperCase() }),
    ],
    ['a USN as a JSON number', json({ ...valid, usn: 42 })],
    ['a negative USN', json({ ...valid, usn: '-1' })],
    ['a USN beyond 64 bits', json({ ...valid, usn: '9223372036854775808' })],
    ['a USN with a sign or spaces', json({ ...valid, usn: ' +42' })],
    ['an oversized cookie', json({ ...valid, pad: 'x'.repeat(300) })],
  ])('is no watermark at all: %s (the next read is a full resync)', (_, cookie) => {
    expect(decodeUsnWatermark(cookie)).toBeUndefined();
  });

  it('reads a binary invocationId in Microsoft’s GUID layout (first three groups little-endian)', () => {
    const bytes = Buffer.from('057a03436ef22e4180af42d85d0198f7', 'hex');
    expect(guidString(bytes)).toBe(invocationId);
    expect(() => guidString(Buffer.alloc(15))).toThrow();
  });
});
