import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';

export class GetUser {
  constructor(
    readonly tenantId: string,
    readonly userId: string,
  ) {}
}

export interface UserView {
  userId: string;
  username: string;
  source: string;
  status: string;
  mfa: string;
  mfaRegistered: boolean;
  requiresModernAuth: boolean;
  roles: string[];
  version: number;
}

@QueryHandler(GetUser)
export class GetUserHandler implements IQueryHandler<GetUser, UserView | undefined> {
  constructor(private readonly db: DataSource) {}

  async execute({ tenantId, userId }: GetUser): Promise<UserView | undefined> {
    const [row] = await this.db.query(
      `SELECT user_id, username, source, status, mfa, mfa_registered, requires_modern_auth, roles, stream_version
       FROM accounts WHERE tenant_id = $1 AND user_id = $2`,
      [tenantId, userId],
    );
    if (!row) return undefined;
    return {
      userId: row.user_id,
      username: row.username,
      source: row.source,
      status: row.status,
      mfa: row.mfa,
      mfaRegistered: row.mfa_registered,
      requiresModernAuth: row.requires_modern_auth,
      roles: row.roles,
      version: row.stream_version,
    };
  }
}
