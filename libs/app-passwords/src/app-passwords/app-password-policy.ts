import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Clock } from '../infrastructure/clock';
import { appPasswordLimit, type ExistingUser, type RuleId, type TenantPolicy } from '../domain';

/** What the tenant and the account allow the caller to do with app passwords, before they try. */
export class GetMyAppPasswordPolicy {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
  ) {}
}

/** One thing that stops the user from creating an app password now; `code` is the refusal's slug. */
export interface CreationRefusal {
  rule: RuleId;
  code: string;
  title: string;
}

export interface MyAppPasswordPolicy {
  /** R10. */
  appPasswordsAllowed: boolean;
  /** R3: the tenant's limit, never above 40. */
  maxAppPasswordsPerUser: number;
  /** Live (neither revoked nor expired) app passwords, which count against R3. */
  liveAppPasswords: number;
  /** B7: new app passwords expire this many days after creation; null for never. */
  maxLifetimeDays: number | null;
  /** R1. */
  mfa: ExistingUser['mfa'];
  mfaRegistered: boolean;
  canCreate: boolean;
  /** R12: while app passwords are forbidden only an admin deletes them. */
  canDelete: boolean;
  /** Every reason creation would be refused now, in the order the decider checks them. */
  reasons: CreationRefusal[];
}

export type AccountForCreation = Pick<
  ExistingUser,
  'status' | 'mfa' | 'mfaRegistered' | 'requiresModernAuth' | 'signInsSuspended'
>;

/**
 * Every rule that would refuse CreateAppPassword for this account now, first the one the user
 * decider names when it refuses. Mirrors the decider's checks (user.decider.ts, createAppPassword)
 * for the state a user can see; app-password-policy.spec.ts runs the decider beside it on every
 * combination, so the two cannot drift apart unnoticed. A name clash (R6) is not a standing refusal.
 */
export function creationRefusals(
  policy: TenantPolicy,
  account: AccountForCreation,
  liveAppPasswords: number,
): CreationRefusal[] {
  const reasons: CreationRefusal[] = [];
  const refuse = (rule: RuleId, reason: string, title: string) =>
    reasons.push({ rule, code: `${rule}.${reason}`, title });
  if (account.status === 'deleted') {
    refuse('R15', 'account-deleted', 'This account is deleted, with its app passwords, for good.');
  } else if (account.status === 'disabled') {
    refuse('R15', 'account-disabled', 'This account is disabled.');
  }
  if (account.signInsSuspended) refuse('B2', 'sign-ins-suspended', "This account's sign-ins are suspended.");
  if (!policy.appPasswordsAllowed) {
    refuse('R10', 'app-passwords-not-allowed', 'This tenant does not allow users to create app passwords.');
  }
  if (account.requiresModernAuth) {
    refuse(
      'R14',
      'modern-auth-required',
      'This account must use modern authentication, where app passwords do not work.',
    );
  }
  if (account.mfa === 'disabled') {
    refuse('R1', 'mfa-not-enabled', 'App passwords are only for accounts with MFA on.');
  } else if (!account.mfaRegistered) {
    refuse('R1', 'mfa-not-registered', 'Complete MFA registration before creating an app password.');
  }
  const limit = appPasswordLimit(policy);
  if (liveAppPasswords >= limit) {
    refuse('R3', 'limit-reached', `A user may hold at most ${limit} app passwords.`);
  }
  return reasons;
}

export function myAppPasswordPolicy(
  policy: TenantPolicy,
  account: AccountForCreation,
  liveAppPasswords: number,
): MyAppPasswordPolicy {
  const reasons = creationRefusals(policy, account, liveAppPasswords);
  return {
    appPasswordsAllowed: policy.appPasswordsAllowed,
    maxAppPasswordsPerUser: appPasswordLimit(policy),
    liveAppPasswords,
    maxLifetimeDays: policy.maxLifetimeDays,
    mfa: account.mfa,
    mfaRegistered: account.mfaRegistered,
    canCreate: reasons.length === 0,
    canDelete: account.status === 'active' && policy.appPasswordsAllowed,
    reasons,
  };
}

@QueryHandler(GetMyAppPasswordPolicy)
export class GetMyAppPasswordPolicyHandler implements IQueryHandler<
  GetMyAppPasswordPolicy,
  MyAppPasswordPolicy | undefined
> {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Undefined for a user that does not exist in this tenant, or is deleted (answered as unknown). */
  async execute({ tenantId, userId }: GetMyAppPasswordPolicy): Promise<MyAppPasswordPolicy | undefined> {
    const [row]: {
      policy: TenantPolicy;
      status: ExistingUser['status'];
      mfa: ExistingUser['mfa'];
      mfa_registered: boolean;
      requires_modern_auth: boolean;
      sign_ins_suspended: boolean;
      live: number;
    }[] = await this.db.query(
      `SELECT t.policy, a.status, a.mfa, a.mfa_registered, a.requires_modern_auth, a.sign_ins_suspended,
              (SELECT count(*)::int FROM credentials c
                WHERE c.user_id = a.user_id AND c.revoked_at IS NULL
                  AND (c.expires_at IS NULL OR c.expires_at > $3)) AS live
       FROM accounts a JOIN tenants t USING (tenant_id)
       WHERE a.tenant_id = $1 AND a.user_id = $2 AND a.status <> 'deleted'`,
      // Live by the service's clock, as the decider counts them against the limit (R3, B7): past their
      // own expiry; one cut short by a lowered tenant maximum still counts (isLive).
      [tenantId, userId, this.clock.now()],
    );
    if (!row) return undefined;
    return myAppPasswordPolicy(
      row.policy,
      {
        status: row.status,
        mfa: row.mfa,
        mfaRegistered: row.mfa_registered,
        requiresModernAuth: row.requires_modern_auth,
        signInsSuspended: row.sign_ins_suspended,
      },
      row.live,
    );
  }
}
