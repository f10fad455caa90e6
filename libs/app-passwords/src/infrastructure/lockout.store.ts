import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { describeFailure, RepeatingTask } from '@latchkey/runtime';
import { DataSource } from 'typeorm';
import { DEFAULT_LOCKOUT_SETTINGS, initialLockoutState, type LockoutState } from '../domain';
import { Clock } from './clock';
import { lockoutInvalidation } from './verification/invalidations';
import { VerificationCoherence } from './verification/verification-coherence';

/**
 * B8 state per (tenant, username), in PostgreSQL so every API instance sees the same locks.
 * Verification reads it in its one query; only failures (and a success from a new network) write,
 * each under a row lock so concurrent failures all count. A change is announced to the verification
 * replicas in the same transaction (they re-read that name); nobody waits for their confirmation:
 * a lock reaches the other instances within milliseconds, and no acknowledgement promises it sooner.
 */
const PRUNE_BATCH = 1_000;

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
      // One statement creates the row or locks the one there: a prune deleting it meanwhile (see
      // prune) cannot slip between a creation and a lock.
      const [row] = await tx.query(
        `INSERT INTO sign_in_lockouts (tenant_id, username, state, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, username) DO UPDATE SET updated_at = sign_in_lockouts.updated_at
         RETURNING state`,
        [tenantId, username, JSON.stringify(initialLockoutState()), now],
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

  /**
   * Deletes up to `batch` states that say nothing any more: not written for the tenant's longest
   * lock plus its reset period, every lock they hold ended a reset period ago (a lock set under a
   * longer maximum than the tenant has now still runs to its end), so every counter has started over
   * and every remembered failure is forgotten; and either without familiar networks or of a name
   * that is no live account. A spray of made-up names writes a row per name; without this they would
   * stay for good. Returns how many went. Rows are locked and skipped when busy, so several API
   * instances may prune at once.
   */
  async prune(now: Date, batch = PRUNE_BATCH): Promise<number> {
    const deleted: unknown[] = await this.db.query(
      `WITH inert AS (
         SELECT l.tenant_id, l.username FROM sign_in_lockouts l
         LEFT JOIN tenants t ON t.tenant_id = l.tenant_id
         CROSS JOIN LATERAL (SELECT coalesce((t.policy #>> '{lockout,resetAfterSeconds}')::int, $3) AS reset) p
         WHERE l.updated_at < $1::timestamptz - make_interval(secs =>
             p.reset + coalesce((t.policy #>> '{lockout,maxLockSeconds}')::int, $4))
           AND greatest(
                 (l.state #>> '{familiar,lockedUntilMs}')::bigint,
                 (l.state #>> '{unfamiliar,lockedUntilMs}')::bigint,
                 (SELECT max((c ->> 'lockedUntilMs')::bigint) FROM jsonb_array_elements(l.state -> 'clients') c)
               ) < extract(epoch FROM $1::timestamptz) * 1000 - p.reset * 1000
           AND (l.state -> 'familiarNetworks' = '[]'::jsonb OR NOT EXISTS (
             SELECT 1 FROM accounts a
             WHERE a.tenant_id = l.tenant_id AND a.username = l.username AND a.status <> 'deleted'))
         LIMIT $2
         FOR UPDATE OF l SKIP LOCKED)
       DELETE FROM sign_in_lockouts l USING inert
       WHERE l.tenant_id = inert.tenant_id AND l.username = inert.username
       RETURNING 1`,
      [now, batch, DEFAULT_LOCKOUT_SETTINGS.resetAfterSeconds, DEFAULT_LOCKOUT_SETTINGS.maxLockSeconds],
    );
    return deleted.length;
  }
}

/** Prunes lockout states in the API, every few minutes, a batch at a time. */
@Injectable()
export class LockoutPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LockoutPruner.name);
  private readonly task = new RepeatingTask(() => this.pruneAll(), 5 * 60_000);
  private stopping = false;

  constructor(
    private readonly store: LockoutStore,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.task.stop();
  }

  private async pruneAll(): Promise<void> {
    try {
      let total = 0;
      let pruned: number;
      do {
        pruned = await this.store.prune(this.clock.now(), PRUNE_BATCH);
        total += pruned;
      } while (pruned === PRUNE_BATCH && !this.stopping);
      if (total > 0) this.logger.log(`pruned ${total} lockout states that said nothing any more`);
    } catch (error) {
      this.logger.warn(`lockout states not pruned: ${describeFailure(error)}`);
    }
  }
}
