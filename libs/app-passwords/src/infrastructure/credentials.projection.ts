import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '@latchkey/event-store';
import type { EntityManager } from 'typeorm';
import { isTenantEventType, isUserEventType, type AppPasswordsEvent } from '../domain';
import { toDomainEvent } from './event-sourced-streams';

/**
 * The read models verification depends on (tenants, accounts, credentials), applied inline: in the
 * same transaction as the events, so that what a command decided holds for every verification
 * that starts after it returns. Each statement is idempotent, so a rebuild can replay any event
 * again without changing the result.
 */
@Injectable()
export class CredentialsProjection {
  readonly apply = async (tx: EntityManager, envelopes: readonly EventEnvelope[]): Promise<void> => {
    for (const envelope of envelopes) {
      if (!isTenantEventType(envelope.type) && !isUserEventType(envelope.type)) continue;
      await this.applyOne(tx, toDomainEvent<AppPasswordsEvent>(envelope), envelope);
    }
  };

  private async applyOne(
    tx: EntityManager,
    event: AppPasswordsEvent,
    envelope: EventEnvelope,
  ): Promise<void> {
    const at = envelope.occurredAt;
    switch (event.type) {
      case 'TenantCreated':
        await tx.query(
          `INSERT INTO tenants (tenant_id, name, policy, stream_version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (tenant_id) DO NOTHING`,
          [event.data.tenantId, event.data.name, JSON.stringify(event.data.policy), envelope.version, at],
        );
        return;
      case 'TenantPolicyChanged':
        await tx.query(
          `UPDATE tenants SET policy = $2, stream_version = $3, updated_at = $4
           WHERE tenant_id = $1 AND stream_version < $3`,
          [event.data.tenantId, JSON.stringify(event.data.policy), envelope.version, at],
        );
        return;
      case 'UserProvisioned': {
        const d = event.data;
        await tx.query(
          `INSERT INTO accounts (user_id, tenant_id, username, source, status, mfa, requires_modern_auth, roles,
             stream_version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $9) ON CONFLICT (user_id) DO NOTHING`,
          [
            d.userId,
            d.tenantId,
            d.username,
            d.source,
            d.mfa,
            d.requiresModernAuth,
            d.roles,
            envelope.version,
            at,
          ],
        );
        return;
      }
      case 'UserDisabled':
        return this.updateAccount(tx, envelope, event.data.userId, `status = 'disabled'`);
      case 'UserEnabled':
        return this.updateAccount(tx, envelope, event.data.userId, `status = 'active'`);
      case 'UserDeleted':
        return this.updateAccount(tx, envelope, event.data.userId, `status = 'deleted'`);
      case 'UserRenamed':
        // The accounts_live_username index refuses a name another live user holds: the whole
        // transaction, events included, rolls back and the application answers user.username-taken.
        return this.updateAccount(tx, envelope, event.data.userId, `username = $4`, [event.data.username]);
      case 'UserSignInsSuspended':
        return this.updateAccount(tx, envelope, event.data.userId, `sign_ins_suspended = true`);
      case 'UserSignInsResumed':
        return this.updateAccount(tx, envelope, event.data.userId, `sign_ins_suspended = false`);
      case 'UserMfaStateChanged':
        return this.updateAccount(tx, envelope, event.data.userId, `mfa = $4`, [event.data.mfa]);
      case 'MfaRegistrationCompleted':
        return this.updateAccount(tx, envelope, event.data.userId, `mfa_registered = true`);
      case 'UserModernAuthRequirementChanged':
        return this.updateAccount(tx, envelope, event.data.userId, `requires_modern_auth = $4`, [
          event.data.requiresModernAuth,
        ]);
      case 'UserPasswordReset':
        return this.updateAccount(tx, envelope, event.data.userId);
      case 'AppPasswordCreated': {
        const d = event.data;
        await tx.query(
          `INSERT INTO credentials (app_password_id, user_id, tenant_id, name, protocols, verifier_key_id,
             verifier_hash, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, decode($7, 'base64'), $8, $9) ON CONFLICT (app_password_id) DO NOTHING`,
          [
            d.appPasswordId,
            d.userId,
            envelope.tenantId,
            d.name,
            d.protocols,
            d.verifier.keyId,
            d.verifier.hash,
            d.createdAt,
            d.expiresAt,
          ],
        );
        return this.updateAccount(tx, envelope, d.userId);
      }
      case 'AppPasswordRevoked':
        await tx.query(
          `UPDATE credentials SET revoked_at = $2, revoked_reason = $3
           WHERE app_password_id = $1 AND revoked_at IS NULL`,
          [event.data.appPasswordId, event.data.revokedAt, event.data.reason],
        );
        return this.updateAccount(tx, envelope, event.data.userId);
    }
  }

  /** Applies a change to an account row unless a later event of its stream already did. */
  private async updateAccount(
    tx: EntityManager,
    envelope: EventEnvelope,
    userId: string,
    assignment?: string,
    extra: unknown[] = [],
  ): Promise<void> {
    await tx.query(
      `UPDATE accounts SET ${assignment ? `${assignment}, ` : ''}stream_version = $2, updated_at = $3
       WHERE user_id = $1 AND stream_version < $2`,
      [userId, envelope.version, envelope.occurredAt, ...extra],
    );
  }
}
