import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { ZodQuery } from '@latchkey/problems';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { normaliseUsername } from '../domain';
import { storableString } from '../http/schemas';

export class GetSignInActivity {
  constructor(
    readonly tenantId: string,
    readonly username: string | undefined,
    readonly days: number,
  ) {}
}

export interface SignInActivityDay {
  username: string;
  day: string;
  allowed: number;
  refused: number;
  refusedByReason: Record<string, number>;
  lastAttemptAt: string;
}

@QueryHandler(GetSignInActivity)
export class GetSignInActivityHandler implements IQueryHandler<GetSignInActivity, SignInActivityDay[]> {
  constructor(private readonly db: DataSource) {}

  async execute({ tenantId, username, days }: GetSignInActivity): Promise<SignInActivityDay[]> {
    const rows = await this.db.query(
      `SELECT username, to_char(day, 'YYYY-MM-DD') AS day, allowed, refused, refused_by_reason, last_attempt_at
       FROM sign_in_activity
       WHERE tenant_id = $1 AND ($2::text IS NULL OR username = $2) AND day > current_date - $3::int
       ORDER BY day DESC, refused DESC, username LIMIT 500`,
      [tenantId, username ?? null, days],
    );
    return rows.map((r: Record<string, never>) => ({
      username: r.username,
      day: r.day,
      allowed: r.allowed,
      refused: r.refused,
      refusedByReason: r.refused_by_reason,
      lastAttemptAt: (r.last_attempt_at as Date).toISOString(),
    }));
  }
}

const activityQuery = z.strictObject({
  username: storableString(320).optional(),
  days: z.coerce.number().int().min(1).max(90).default(7),
});

/** Admins and auditors see who tried to sign in with app passwords, allowed and refused, by day. */
@ApiTags('gateway')
@Controller('v1/sign-in-activity')
@Roles('tenant-admin', 'auditor')
export class SignInActivityController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  list(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodQuery(activityQuery)) query: z.infer<typeof activityQuery>,
  ): Promise<SignInActivityDay[]> {
    const username =
      query.username === undefined ? undefined : (normaliseUsername(query.username) ?? query.username);
    return this.queries.execute(new GetSignInActivity(principal.tenantId, username, query.days));
  }
}
