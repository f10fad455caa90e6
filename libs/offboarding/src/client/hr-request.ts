import { randomUUID } from 'node:crypto';
import { SIGNATURE_HEADER, signWebhook } from '../domain/webhook-signature';

export const HR_REQUESTS_PATH = '/v1/offboarding/hr-requests';

export interface HrRequest {
  /** The API's origin, e.g. `http://127.0.0.1:3000`. */
  api: string;
  tenantId: string;
  /** The tenant's webhook secret, as `POST /v1/offboarding/webhook-secret` revealed it (decoded). */
  secret: Buffer;
  body: object;
  /** A fresh one unless given; the same key again is answered with the first answer. */
  idempotencyKey?: string;
  /** Unix seconds; now unless given. */
  timestamp?: number;
  /** Sent instead of the computed signature header (to see a bad one refused). */
  signature?: string;
}

/**
 * What an HR system sends to the offboarding webhook: the JSON body, signed over the timestamp and
 * the exact bytes sent with the tenant's secret, and an Idempotency-Key. One implementation for the
 * CLI's `hr-request`, the tests and the bench, so none of them drifts from what the webhook checks.
 */
export function sendHrRequest(request: HrRequest): Promise<Response> {
  const raw = JSON.stringify(request.body);
  const timestamp = request.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(`${request.api}${HR_REQUESTS_PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'latchkey-tenant': request.tenantId,
      [SIGNATURE_HEADER]: request.signature ?? signWebhook(request.secret, timestamp, raw),
      'idempotency-key': request.idempotencyKey ?? randomUUID(),
    },
    body: raw,
  });
}
