import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@latchkey/access';

/** Who the API thinks the caller is: lets a client check its token before doing anything else. */
@ApiTags('me')
@Controller('v1/me')
export class MeController {
  @Get()
  @ApiOperation({ summary: "The caller's tenant, subject, roles and authentication methods, from the token" })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        tenantId: { type: 'string', format: 'uuid' },
        subject: { type: 'string' },
        roles: {
          type: 'array',
          items: { type: 'string', enum: ['tenant-admin', 'user', 'hr', 'auditor', 'gateway'] },
        },
        amr: { type: 'array', items: { type: 'string' } },
      },
    },
  })
  me(@CurrentPrincipal() principal: Principal) {
    const { tenantId, subject, roles, amr } = principal;
    return { tenantId, subject, roles, amr };
  }
}
