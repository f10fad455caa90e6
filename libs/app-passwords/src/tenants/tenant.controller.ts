import { Body, Controller, Get, HttpCode, NotFoundException, Patch, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { ZodBody } from '@latchkey/problems';
import { z } from 'zod';
import { tenantDecider, tenantStreamId } from '../domain';
import { EventSourcedStreams } from '../infrastructure/event-sourced-streams';
import { contextOf } from '../http/context';
import { createTenantSchema, policyPatchSchema } from '../http/schemas';
import { RunTenantCommand, type TenantResult } from './tenant-commands';

/** The caller's own tenant (the one named by the token): create it, read and change its policy. */
@ApiTags('tenant')
@Controller('v1/tenant')
export class TenantController {
  constructor(
    private readonly commands: CommandBus,
    private readonly streams: EventSourcedStreams,
  ) {}

  @Post()
  @Roles('tenant-admin')
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBody(createTenantSchema)) body: z.infer<typeof createTenantSchema>,
  ) {
    const result: TenantResult = await this.commands.execute(
      new RunTenantCommand(
        {
          type: 'CreateTenant',
          data: { tenantId: principal.tenantId, name: body.name, policy: body.policy },
        },
        contextOf(principal, 'admin'),
      ),
    );
    return view(result);
  }

  @Get()
  @Roles('tenant-admin', 'auditor')
  async get(@CurrentPrincipal() principal: Principal) {
    const { state, version } = await this.streams.load(tenantStreamId(principal.tenantId), tenantDecider);
    if (state.status !== 'created') throw new NotFoundException('There is no such tenant.');
    return view({ state, version, changed: false });
  }

  /** R3, R10, R12, R13, B6, B7, B8: only the settings sent change. */
  @Patch('policy')
  @HttpCode(200)
  @Roles('tenant-admin')
  async changePolicy(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBody(policyPatchSchema)) patch: z.infer<typeof policyPatchSchema>,
  ) {
    const result: TenantResult = await this.commands.execute(
      new RunTenantCommand(
        { type: 'ChangeTenantPolicy', data: { tenantId: principal.tenantId, patch } },
        contextOf(principal, 'admin'),
      ),
    );
    return view(result);
  }
}

function view({ state, version }: TenantResult) {
  if (state.status !== 'created') throw new NotFoundException('There is no such tenant.');
  return {
    tenantId: state.tenantId,
    name: state.name,
    createdAt: state.createdAt,
    policy: state.policy,
    version,
  };
}
