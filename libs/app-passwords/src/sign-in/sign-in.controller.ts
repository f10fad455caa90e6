import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { ZodBody } from '@latchkey/problems';
import { z } from 'zod';
import { verifySchema } from '../http/schemas';
import { VerifySignIn, type SignInVerdict } from './verify-sign-in.command';

/**
 * The mail / legacy gateway asks on every legacy sign-in. The answer is always 200: `allowed`, or a
 * reason code for the gateway's log. The end user must be told only that sign-in failed.
 */
@ApiTags('gateway')
@Controller('v1/sign-ins')
@Roles('gateway')
export class SignInController {
  constructor(private readonly commands: CommandBus) {}

  @Post('verify')
  @HttpCode(200)
  verify(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBody(verifySchema)) body: z.infer<typeof verifySchema>,
  ): Promise<SignInVerdict> {
    return this.commands.execute(
      new VerifySignIn(
        principal.tenantId,
        body.username,
        body.password,
        body.protocol,
        body.action ?? 'sign-in',
        body.clientIp,
      ),
    );
  }
}
