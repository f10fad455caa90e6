import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { initialLockoutState, type LockoutState } from '../domain';
import { lockoutInvalidation } from './verification/invalidations';
import { VerificationCoherence } from './verification/verification-coherence';

/**
 * B8 state per (tenant, username), in PostgreSQL so every API instance sees the same locks.
 * Verification reads it in its one query; only failures (and a success from a new network) write,
 * each under a row lock so concurrent failures all count. A change is announced to the verification
 * replicas in the same transaction (they re-read that name); nobody waits for their confirmation:
 * a lock reaches the other instances within milliseconds, and no acknowledgement promises it sooner.
 */
@Injectable()
export class LockoutStore {
  constructor(private readonly db: DataSource) {}

  async update(
    tenantId: string,
    username: string,
    change: (state: LockoutState) => LockoutState,
    now: Date,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO sign_in_lockouts (tenant_id, username, state, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, username) DO NOTHING`,
        [tenantId, username, JSON.stringify(initialLockoutState()), now],
      );
      const [row] = await tx.query(
        `SELECT state FROM sign_in_lockouts WHERE tenant_id = $1 AND username = $2 FOR UPDATE`,
        [tenantId, username],
      );
      const before = row.state as LockoutState;
      const after = change(before);
      if (after === before) return;
      await tx.query(
        `UPDATE sign_in_lockouts SET state = $3, updated_at = $4 WHERE tenant_id = $1 AND username = $2`,
        [tenantId, username, JSON.stringify(after), now],
      );
      await tx.query(...VerificationCoherence.announcement([lockoutInvalidation(tenantId, username)]));
    });
  }
}
