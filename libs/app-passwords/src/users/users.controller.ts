import { randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { CanonicalUuid, ZodBody, ZodQuery } from '@latchkey/problems';
import { z } from 'zod';
import { ListAppPasswords, type AppPasswordSummary } from '../app-passwords/list-app-passwords';
import { normaliseUsername } from '../domain';
import { contextOf } from '../http/context';
import { mfaStateSchema, modernAuthSchema, provisionUserSchema, userPageQuerySchema } from '../http/schemas';
import { GetUser, type UserView } from './get-user';
import { ListUsers, USER_PAGE_DEFAULT_LIMIT, type UserPage } from './list-users';
import { RunUserCommand, type UserCommandRequest } from './user-commands';

const findUserQuery = z.strictObject({ username: z.string().min(1).max(320) });

/** A tenant admin manages the tenant's cloud-only users and any user's app passwords (R15, R16, R5, B6). */
@ApiTags('users (admin)')
@Controller('v1/users')
@Roles('tenant-admin')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  async provision(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBody(provisionUserSchema)) body: z.infer<typeof provisionUserSchema>,
  ): Promise<UserView> {
    const userId = randomUUID();
    await this.run(principal, {
      type: 'ProvisionUser',
      data: { tenantId: principal.tenantId, userId, source: 'cloud', origin: 'admin', ...body },
    });
    return this.get(principal, userId);
  }

  /** A synced user's id is the sync's to choose: find the user by the name the directory gives. */
  @Get()
  async find(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodQuery(findUserQuery)) query: z.infer<typeof findUserQuery>,
  ): Promise<UserView[]> {
    const username = normaliseUsername(query.username);
    if (!username) return [];
    const user: UserView | undefined = await this.queries.execute(
      new GetUser(principal.tenantId, '', username),
    );
    return user ? [user] : [];
  }

  /**
   * The tenant's users, a page at a time, in username order; `prefix` narrows to usernames that start
   * with it. A route of its own: `GET /v1/users?username=` keeps answering the array its clients read.
   * Declared before `:userId`, which would otherwise take `page` for an id.
   */
  @Get('page')
  page(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodQuery(userPageQuerySchema)) query: z.infer<typeof userPageQuerySchema>,
  ): Promise<UserPage> {
    // Usernames are stored NFKC and lower-case (normaliseUsername); a prefix is compared the same way.
    const prefix = query.prefix?.normalize('NFKC').trim().toLowerCase() || undefined;
    return this.queries.execute(
      new ListUsers(principal.tenantId, query.limit ?? USER_PAGE_DEFAULT_LIMIT, prefix, query.cursor),
    );
  }

  @Get(':userId')
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
  ): Promise<UserView> {
    const user: UserView | undefined = await this.queries.execute(new GetUser(principal.tenantId, userId));
    if (!user) throw new NotFoundException('There is no such user.');
    return user;
  }

  @Post(':userId/disable')
  @HttpCode(200)
  disable(@CurrentPrincipal() principal: Principal, @Param('userId', CanonicalUuid) userId: string) {
    return this.lifecycle(principal, userId, 'DisableUser');
  }

  @Post(':userId/enable')
  @HttpCode(200)
  enable(@CurrentPrincipal() principal: Principal, @Param('userId', CanonicalUuid) userId: string) {
    return this.lifecycle(principal, userId, 'EnableUser');
  }

  /**
   * B2: lifts a fast-path suspension, which nothing else does: not a later sync, nor the offboarding
   * being rejected (it fails closed). Repeated, or for a user not suspended, it changes nothing.
   */
  @Post(':userId/resume-sign-ins')
  @HttpCode(200)
  resumeSignIns(@CurrentPrincipal() principal: Principal, @Param('userId', CanonicalUuid) userId: string) {
    return this.lifecycle(principal, userId, 'ResumeSignIns');
  }

  /** R15: the account and, for good, its app passwords. */
  @Delete(':userId')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('userId', CanonicalUuid) userId: string) {
    await this.lifecycle(principal, userId, 'DeleteUser');
  }

  /** R5: app passwords survive, unless the tenant opted in to B6. */
  @Post(':userId/password-reset')
  @HttpCode(200)
  resetPassword(@CurrentPrincipal() principal: Principal, @Param('userId', CanonicalUuid) userId: string) {
    return this.lifecycle(principal, userId, 'ResetPassword');
  }

  @Put(':userId/mfa')
  async setMfa(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
    @Body(new ZodBody(mfaStateSchema)) body: z.infer<typeof mfaStateSchema>,
  ) {
    await this.run(principal, {
      type: 'SetMfaState',
      data: { tenantId: principal.tenantId, userId, mfa: body.mfa },
    });
    return this.get(principal, userId);
  }

  /** R14. */
  @Put(':userId/modern-auth')
  async setModernAuth(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
    @Body(new ZodBody(modernAuthSchema)) body: z.infer<typeof modernAuthSchema>,
  ) {
    await this.run(principal, {
      type: 'SetModernAuthRequirement',
      data: { tenantId: principal.tenantId, userId, requiresModernAuth: body.requiresModernAuth },
    });
    return this.get(principal, userId);
  }

  @Get(':userId/app-passwords')
  async listAppPasswords(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
  ): Promise<AppPasswordSummary[]> {
    const list: AppPasswordSummary[] | undefined = await this.queries.execute(
      new ListAppPasswords(principal.tenantId, userId),
    );
    if (!list) throw new NotFoundException('There is no such user.');
    return list;
  }

  /** R12: admins can delete app passwords even while users cannot. */
  @Delete(':userId/app-passwords/:appPasswordId')
  @HttpCode(204)
  async deleteAppPassword(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
    @Param('appPasswordId', CanonicalUuid) appPasswordId: string,
  ) {
    await this.run(principal, {
      type: 'DeleteAppPassword',
      data: { tenantId: principal.tenantId, userId, appPasswordId, by: 'admin' },
    });
  }

  /** R16: every app password of the user, in one step. */
  @Delete(':userId/app-passwords')
  @HttpCode(204)
  async deleteAllAppPasswords(
    @CurrentPrincipal() principal: Principal,
    @Param('userId', CanonicalUuid) userId: string,
  ) {
    await this.run(principal, {
      type: 'DeleteAllAppPasswords',
      data: { tenantId: principal.tenantId, userId },
    });
  }

  private async lifecycle(
    principal: Principal,
    userId: string,
    type: 'DisableUser' | 'EnableUser' | 'DeleteUser' | 'ResetPassword' | 'ResumeSignIns',
  ) {
    const { events } = await this.run(principal, {
      type,
      data: { tenantId: principal.tenantId, userId, origin: 'admin' },
    } as UserCommandRequest);
    return { changed: events.length > 0, events: events.map((e: { type: string }) => e.type) };
  }

  private run(principal: Principal, command: UserCommandRequest) {
    return this.commands.execute(new RunUserCommand(command, contextOf(principal, 'admin')));
  }
}
