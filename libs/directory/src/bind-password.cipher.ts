import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * A directory's bind password, encrypted at rest with AES-256-GCM under a key from configuration
 * (never from the database), so the database alone never yields a credential for the directory.
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>`, base64url parts; the key id allows rotation.
 */
export class BindPasswordCipher {
  constructor(
    private readonly key: Buffer,
    private readonly keyId: string,
  ) {
    if (key.length !== 32) throw new Error('the directory secret key must be 32 bytes');
  }

  encrypt(password: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8')); // binds the ciphertext to its tenant
    const body = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv, cipher.getAuthTag(), body]
      .map((part) => (Buffer.isBuffer(part) ? part.toString('base64url') : part))
      .join('.');
  }

  decrypt(sealed: string, context: string): string {
    const [version, keyId, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || keyId !== this.keyId || !iv || !tag || body === undefined) {
      throw new Error('a bind password sealed with another key or format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}
