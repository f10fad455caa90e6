import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { BindPasswordCipher } from '@latchkey/directory';
import { PostgresEventStore } from '@latchkey/event-store';
import { DataSource } from 'typeorm';
import {
  hrWebhookStreamId,
  PREVIOUS_SECRET_GRACE_MS,
  type HrWebhookSecretRotated,
} from '../domain/offboarding';

export interface IssuedSecret {
  secretId: string;
  /** 32 random bytes, base64: shown once, never stored in clear nor put in an event. */
  secret: string;
  rotatedAt: string;
  previousValidUntil: string | null;
}

/**
 * Each tenant's HR webhook secret, sealed with the configuration's key (BindPasswordCipher, context
 * `hr:<tenantId>`) so the database alone yields no secret. A rotation keeps the previous secret valid
 * for PREVIOUS_SECRET_GRACE_MS; a second rotation inside that time drops the oldest at once.
 */
@Injectable()
export class HrWebhookSecrets {
  constructor(
    private readonly db: DataSource,
    private readonly cipher: BindPasswordCipher,
    private readonly events: PostgresEventStore,
  ) {}

  async rotate(tenantId: string, actorId: string, now: Date): Promise<IssuedSecret> {
    const secret = randomBytes(32).toString('base64');
    const secretId = randomUUID();
    const [existing] = await this.db.query(`SELECT 1 FROM hr_webhook_secrets WHERE tenant_id = $1`, [
      tenantId,
    ]);
    const previousValidUntil = existing
      ? new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS).toISOString()
      : null;
    const event: HrWebhookSecretRotated = {
      type: 'HrWebhookSecretRotated',
      data: { tenantId, secretId, rotatedAt: now.toISOString(), previousValidUntil },
    };
    await this.events.append({
      streamId: hrWebhookStreamId(tenantId),
      streamType: 'hr-webhook',
      expectedVersion: 'any',
      events: [{ ...event, schemaVersion: 1 }],
      context: { tenantId, actor: { kind: 'admin', id: actorId }, occurredAt: now },
      inline: async (tx) => {
        await tx.query(
          `INSERT INTO hr_webhook_secrets (tenant_id, secret_id, sealed_secret, rotated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_id) DO UPDATE SET
             sealed_previous_secret = hr_webhook_secrets.sealed_secret, previous_valid_until = $5,
             secret_id = $2, sealed_secret = $3, rotated_at = $4`,
          [
            tenantId,
            secretId,
            this.cipher.encrypt(secret, context(tenantId)),
            now,
            previousValidUntil ?? now,
          ],
        );
      },
    });
    return { secretId, secret, rotatedAt: now.toISOString(), previousValidUntil };
  }

  /** The secrets a signature may be made with now: the current one, and the previous during its grace. */
  async accepted(tenantId: string, now: Date): Promise<Buffer[]> {
    const [row] = await this.db.query(
      `SELECT sealed_secret, sealed_previous_secret, previous_valid_until FROM hr_webhook_secrets WHERE tenant_id = $1`,
      [tenantId],
    );
    if (!row) return [];
    const secrets = [row.sealed_secret as string];
    if (row.sealed_previous_secret && (row.previous_valid_until as Date).getTime() > now.getTime()) {
      secrets.push(row.sealed_previous_secret);
    }
    return secrets.map((sealed) => Buffer.from(this.cipher.decrypt(sealed, context(tenantId)), 'base64'));
  }
}

const context = (tenantId: string) => `hr:${tenantId}`;
