import { randomBytes } from 'node:crypto';
import { BindPasswordCipher } from './bind-password.cipher';

describe('BindPasswordCipher', () => {
  const cipher = new BindPasswordCipher(randomBytes(32), 'k1');

  it('round-trips, and the sealed form holds nothing of the password', () => {
    const sealed = cipher.encrypt('Sync-Secret-2026!', 'tenant-a');
    expect(sealed).not.toContain('Sync');
    expect(cipher.decrypt(sealed, 'tenant-a')).toBe('Sync-Secret-2026!');
  });

  it('refuses another tenant’s context, a tampered ciphertext and another key', () => {
    const sealed = cipher.encrypt('Sync-Secret-2026!', 'tenant-a');
    expect(() => cipher.decrypt(sealed, 'tenant-b')).toThrow();
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'tenant-a')).toThrow();
    expect(() => new BindPasswordCipher(randomBytes(32), 'k1').decrypt(sealed, 'tenant-a')).toThrow();
  });
});
