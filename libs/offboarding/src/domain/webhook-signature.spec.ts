import { randomBytes } from 'node:crypto';
import { signWebhook, verifyWebhookSignature } from './webhook-signature';

describe('HR webhook signatures', () => {
  const secret = randomBytes(32);
  const body = Buffer.from('{"action":"disable","username":"alice@contoso.test"}');
  const now = new Date('2026-03-03T14:02:00Z');
  const t = now.getTime() / 1000;

  it('accepts the tenant’s signature over timestamp and body', () => {
    expect(verifyWebhookSignature(signWebhook(secret, t, body), body, [secret], now)).toEqual({
      valid: true,
      timestamp: t,
    });
  });

  it('accepts the previous secret during rotation, and any of several v1 values', () => {
    const old = randomBytes(32);
    const header = `${signWebhook(randomBytes(32), t, body)},v1=${signWebhook(old, t, body).split('v1=')[1]}`;
    expect(verifyWebhookSignature(header, body, [secret, old], now).valid).toBe(true);
  });

  it('refuses a changed body, another secret, and a replay outside the window', () => {
    const header = signWebhook(secret, t, body);
    expect(verifyWebhookSignature(header, Buffer.from(`${body} `), [secret], now)).toMatchObject({
      reason: 'mismatch',
    });
    expect(verifyWebhookSignature(header, body, [randomBytes(32)], now)).toMatchObject({
      reason: 'mismatch',
    });
    const later = new Date(now.getTime() + 301_000);
    expect(verifyWebhookSignature(header, body, [secret], later)).toMatchObject({
      reason: 'outside-replay-window',
    });
  });

  it.each([
    undefined,
    '',
    't=abc,v1=00',
    `t=${t}`,
    `v1=${'a'.repeat(64)}`,
    `t=${t},v1=${'z'.repeat(64)}`,
    'x'.repeat(2000),
  ])('refuses the malformed header %j', (header) => {
    expect(verifyWebhookSignature(header, body, [secret], now)).toMatchObject({
      valid: false,
      reason: 'malformed',
    });
  });
});
