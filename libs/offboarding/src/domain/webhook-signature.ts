import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The HR system signs each webhook over its timestamp and raw body with the tenant's secret,
 * as Stripe and GitHub do: header `Latchkey-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256>`
 * of `<t>.<body>`. Several v1 values may be sent while a secret is being rotated.
 */
export const SIGNATURE_HEADER = 'latchkey-signature';

export type SignatureCheck =
  | { valid: true; timestamp: number }
  | { valid: false; reason: 'malformed' | 'outside-replay-window' | 'mismatch' };

export function signWebhook(secret: Buffer, timestamp: number, body: Buffer | string): string {
  return `t=${timestamp},v1=${mac(secret, timestamp, body)}`;
}

/**
 * Checks a signature header against every secret the tenant accepts (the current one and, during
 * rotation, the previous). A timestamp further than `toleranceSeconds` from now is refused, so a
 * captured request cannot be replayed later; within the window, the idempotency key stops it.
 */
export function verifyWebhookSignature(
  header: string | undefined,
  body: Buffer,
  secrets: readonly Buffer[],
  now: Date,
  toleranceSeconds = 300,
): SignatureCheck {
  const parsed = parseHeader(header);
  if (!parsed) return { valid: false, reason: 'malformed' };
  if (Math.abs(now.getTime() / 1000 - parsed.timestamp) > toleranceSeconds) {
    return { valid: false, reason: 'outside-replay-window' };
  }
  for (const secret of secrets) {
    const expected = Buffer.from(mac(secret, parsed.timestamp, body), 'hex');
    for (const candidate of parsed.signatures) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        return { valid: true, timestamp: parsed.timestamp };
      }
    }
  }
  return { valid: false, reason: 'mismatch' };
}

function mac(secret: Buffer, timestamp: number, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

function parseHeader(header: string | undefined): { timestamp: number; signatures: Buffer[] } | undefined {
  if (typeof header !== 'string' || header.length > 1024) return undefined;
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && /^\d{1,12}$/.test(value ?? '')) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value ?? '')) signatures.push(Buffer.from(value, 'hex'));
  }
  return timestamp !== undefined && signatures.length > 0 ? { timestamp, signatures } : undefined;
}
