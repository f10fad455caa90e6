import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { expiryOf, isExpired, type TenantPolicy } from '../domain';
import { Clock } from '../infrastructure/clock';

/** The user's live app passwords with last use (B7): never a secret, never a verifier. */
export class ListAppPasswords {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
  ) {}
}

export interface AppPasswordSummary {
  appPasswordId: string;
  name: string;
  protocols: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  expired: boolean;
  lastUsed: { at: string; clientIp: string; protocol: string } | null;
}

@QueryHandler(ListAppPasswords)
export class ListAppPasswordsHandler implements IQueryHandler<
  ListAppPasswords,
  AppPasswordSummary[] | undefined
> {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Undefined when the user does not exist in this tenant (answered like any unknown user). */
  async execute({ tenantId, userId }: ListAppPasswords): Promise<AppPasswordSummary[] | undefined> {
    const [account]: { policy: TenantPolicy }[] = await this.db.query(
      `SELECT t.policy FROM accounts a JOIN tenants t USING (tenant_id)
       WHERE a.tenant_id = $1 AND a.user_id = $2 AND a.status <> 'deleted'`,
      [tenantId, userId],
    );
    if (!account) return undefined;
    const rows: {
      app_password_id: string;
      name: string;
      protocols: string[] | null;
      created_at: Date;
      expires_at: Date | null;
      last_used_at: Date | null;
      last_ip: string | null;
      last_protocol: string | null;
    }[] = await this.db.query(
      `SELECT c.app_password_id, c.name, c.protocols, c.created_at, c.expires_at,
              u.last_used_at, u.last_ip, u.last_protocol
       FROM credentials c LEFT JOIN credential_usage u USING (app_password_id)
       WHERE c.tenant_id = $1 AND c.user_id = $2 AND c.revoked_at IS NULL
       ORDER BY c.created_at, c.app_password_id`,
      [tenantId, userId],
    );
    // Expiry as verification and the decider judge it (B7): the tenant's maximum lifetime as it is
    // now may cut it short, and expired by the service's clock.
    const now = this.clock.now();
    return rows.map((r) => {
      const lifetime = {
        createdAt: r.created_at.toISOString(),
        expiresAt: r.expires_at?.toISOString() ?? null,
      };
      return {
        appPasswordId: r.app_password_id,
        name: r.name,
        protocols: r.protocols,
        createdAt: lifetime.createdAt,
        expiresAt: expiryOf(lifetime, account.policy),
        expired: isExpired(lifetime, account.policy, now),
        lastUsed: r.last_used_at
          ? { at: r.last_used_at.toISOString(), clientIp: r.last_ip!, protocol: r.last_protocol! }
          : null,
      };
    });
  }
}
