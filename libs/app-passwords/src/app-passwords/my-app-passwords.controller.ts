import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireMfa, Roles, type Principal } from '@latchkey/access';
import { CanonicalUuid, ZodBody } from '@latchkey/problems';
import { z } from 'zod';
import { isUuid, NotFoundError } from '../domain';
import { contextOf } from '../http/context';
import { createAppPasswordSchema } from '../http/schemas';
import { RunUserCommand, type UserResult } from '../users/user-commands';
import { GetMyAppPasswordPolicy, type MyAppPasswordPolicy } from './app-password-policy';
import { CreateAppPasswordCommand, type CreatedAppPassword } from './create-app-password';
import { ListAppPasswords, type AppPasswordSummary } from './list-app-passwords';

/** An end user's own app passwords ("Security info"): the user is the token's subject. */
@ApiTags('my app passwords')
@Controller('v1/me')
@Roles('user')
export class MyAppPasswordsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** R11: the answer says whether to offer creating an app password now. */
  @Post('mfa-registration')
  @HttpCode(200)
  @RequireMfa()
  async completeMfaRegistration(@CurrentPrincipal() principal: Principal) {
    const { events }: UserResult = await this.commands.execute(
      new RunUserCommand(
        {
          type: 'CompleteMfaRegistration',
          data: { tenantId: principal.tenantId, userId: userIdOf(principal) },
        },
        contextOf(principal, 'user'),
      ),
    );
    const completed = events.find((e) => e.type === 'MfaRegistrationCompleted');
    return {
      registered: true,
      promptToCreateAppPassword:
        completed?.type === 'MfaRegistrationCompleted' && completed.data.appPasswordPromptOffered,
    };
  }

  /**
   * R1, R3, R10, R12, R14, B7: what the tenant and the account allow now, so that a page can explain
   * a refusal before the user runs into it.
   */
  @Get('app-password-policy')
  async policy(@CurrentPrincipal() principal: Principal): Promise<MyAppPasswordPolicy> {
    const policy: MyAppPasswordPolicy | undefined = await this.queries.execute(
      new GetMyAppPasswordPolicy(principal.tenantId, userIdOf(principal)),
    );
    if (!policy) throw new NotFoundError('user.not-found', 'There is no such user.');
    return policy;
  }

  @Get('app-passwords')
  async list(@CurrentPrincipal() principal: Principal): Promise<AppPasswordSummary[]> {
    const list: AppPasswordSummary[] | undefined = await this.queries.execute(
      new ListAppPasswords(principal.tenantId, userIdOf(principal)),
    );
    if (!list) throw new NotFoundError('user.not-found', 'There is no such user.');
    return list;
  }

  /** R2: the password is in this response and nowhere else, ever. */
  @Post('app-passwords')
  @RequireMfa()
  create(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBody(createAppPasswordSchema)) body: z.infer<typeof createAppPasswordSchema>,
  ): Promise<CreatedAppPassword> {
    return this.commands.execute(
      new CreateAppPasswordCommand(
        principal.tenantId,
        userIdOf(principal),
        body.name,
        body.protocols,
        contextOf(principal, 'user'),
      ),
    );
  }

  /** R12: refused while the tenant forbids app passwords (only admins can delete then). */
  @Delete('app-passwords/:appPasswordId')
  @HttpCode(204)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('appPasswordId', CanonicalUuid) appPasswordId: string,
  ) {
    await this.commands.execute(
      new RunUserCommand(
        {
          type: 'DeleteAppPassword',
          data: { tenantId: principal.tenantId, userId: userIdOf(principal), appPasswordId, by: 'user' },
        },
        contextOf(principal, 'user'),
      ),
    );
  }
}

/**
 * The user is the token's subject. A subject that is not a user id (a machine client's, or one in
 * another spelling) names no user: 404 as for any unknown user, never a database error on a uuid column.
 */
function userIdOf(principal: Principal): string {
  if (!isUuid(principal.subject)) throw new NotFoundError('user.not-found', 'There is no such user.');
  return principal.subject;
}
