import { ValidationError } from '../../../app-passwords/src/domain';
import { guidFromBytes, guidToBytes, isObjectGuid } from './guid';

describe('objectGUID', () => {
  it('reads the first three groups little-endian and the rest in order, lower-case', () => {
    const bytes = Uint8Array.from([
      0x2e, 0x6c, 0x7f, 0x5b, 0x9a, 0x1d, 0xd4, 0x4c, 0x8e, 0x2b, 0x00, 0x11, 0x22, 0x33, 0x44, 0xff,
    ]);
    expect(guidFromBytes(bytes)).toBe('5b7f6c2e-1d9a-4cd4-8e2b-0011223344ff');
  });

  it('round-trips through guidToBytes, for a filter on objectGUID', () => {
    const guid = '5b7f6c2e-1d9a-4cd4-8e2b-0011223344ff';
    expect(guidFromBytes(guidToBytes(guid))).toBe(guid);
    expect(guidFromBytes(Buffer.from(guidToBytes(guid)))).toBe(guid);
  });

  it('refuses anything but 16 bytes, and the nil GUID', () => {
    expect(() => guidFromBytes(new Uint8Array(15))).toThrow(ValidationError);
    expect(() => guidFromBytes(new Uint8Array(17))).toThrow(ValidationError);
    expect(() => guidFromBytes(new Uint8Array(16))).toThrow(/nil/);
    expect(() => guidFromBytes('not bytes' as unknown as Uint8Array)).toThrow(ValidationError);
  });

  it('accepts only the canonical spelling', () => {
    expect(isObjectGuid('5b7f6c2e-1d9a-4cd4-8e2b-0011223344ff')).toBe(true);
    expect(isObjectGuid('5B7F6C2E-1D9A-4CD4-8E2B-0011223344FF')).toBe(false);
    expect(isObjectGuid('{5b7f6c2e-1d9a-4cd4-8e2b-0011223344ff}')).toBe(false);
    expect(isObjectGuid(42)).toBe(false);
  });
});
