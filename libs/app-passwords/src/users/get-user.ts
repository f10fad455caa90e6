import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';

/** One user by id, or (with `byUsername`) the tenant's live user of that name. */
export class GetUser {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
    readonly byUsername?: string,
  ) {}
}

/** What every view of a user says of them (the user page and the users list). */
export interface UserSummary {
  userId: string;
  username: string;
  source: string;
  status: string;
  mfa: string;
  mfaRegistered: boolean;
  /**
   * B2: an HR fast path stopped the user's app passwords, whatever `status` says. It stays until an
   * admin resumes sign-ins (`POST /v1/users/:userId/resume-sign-ins`), also when that offboarding is
   * later rejected: failing closed, so the admin must be able to see it here.
   */
  signInsSuspended: boolean;
}

/** An accounts row's columns as the driver returns them. */
export interface UserSummaryRow {
  user_id: string;
  username: string;
  source: string;
  status: string;
  mfa: string;
  mfa_registered: boolean;
  sign_ins_suspended: boolean;
}

export const toUserSummary = (row: UserSummaryRow): UserSummary => ({
  userId: row.user_id,
  username: row.username,
  source: row.source,
  status: row.status,
  mfa: row.mfa,
  mfaRegistered: row.mfa_registered,
  signInsSuspended: row.sign_ins_suspended,
});

export interface UserView extends UserSummary {
  requiresModernAuth: boolean;
  roles: string[];
  version: number;
}

@QueryHandler(GetUser)
export class GetUserHandler implements IQueryHandler<GetUser, UserView | undefined> {
  constructor(private readonly db: DataSource) {}

  async execute({ tenantId, userId, byUsername }: GetUser): Promise<UserView | undefined> {
    const [row] = await this.db.query(
      `SELECT user_id, username, source, status, mfa, mfa_registered, sign_ins_suspended, requires_modern_auth,
              roles, stream_version
       FROM accounts WHERE tenant_id = $1
         AND ${byUsername === undefined ? 'user_id = $2' : "username = $2 AND status <> 'deleted'"}`,
      [tenantId, byUsername ?? userId],
    );
    if (!row) return undefined;
    return {
      ...toUserSummary(row),
      requiresModernAuth: row.requires_modern_auth,
      roles: row.roles,
      version: row.stream_version,
    };
  }
}
