import { ValidationError } from './domain-error';

/**
 * What is stored to check an app password: HMAC-SHA-256 of the normalised secret under a server-side
 * pepper named by `keyId` (so peppers can rotate). App passwords carry ≥ 75 random bits, so a slow KDF
 * would buy nothing. Computed by the application layer; the domain only checks its shape. A verifier
 * stays in PostgreSQL: it is stripped from every event that leaves it (see toPublishableEvent).
 */
export interface Verifier {
  algorithm: 'hmac-sha256';
  keyId: string;
  /** Base64 of the 32-byte MAC. */
  hash: string;
}

const BASE64_OF_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export const validateVerifier = (verifier: Verifier): Verifier => {
  if (
    typeof verifier !== 'object' ||
    verifier === null ||
    verifier.algorithm !== 'hmac-sha256' ||
    typeof verifier.keyId !== 'string' ||
    !KEY_ID.test(verifier.keyId) ||
    typeof verifier.hash !== 'string' ||
    !BASE64_OF_32_BYTES.test(verifier.hash)
  ) {
    throw new ValidationError(
      'verifier.invalid',
      undefined,
      'An app password verifier is an HMAC-SHA-256 (base64 of 32 bytes) with a key id.',
    );
  }
  return { algorithm: verifier.algorithm, keyId: verifier.keyId, hash: verifier.hash };
};
