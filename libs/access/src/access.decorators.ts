import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import { principalOf, type Principal, type Role } from './principal';

export const IS_PUBLIC = 'latchkey:public';
export const REQUIRED_ROLES = 'latchkey:roles';
export const REQUIRES_MFA = 'latchkey:mfa';
// @nestjs/swagger's key for a route's security requirements; an empty list overrides the document's
// default bearer requirement, so /docs shows public routes without a lock.
const SWAGGER_SECURITY = 'swagger/apiSecurity';

/** No token needed (health, leak report, docs). Everything else needs a valid bearer token. */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), SetMetadata(SWAGGER_SECURITY, []));

/**
 * The caller needs at least one of these roles. On a class it covers every handler; on a handler
 * it replaces the class's list. A route without @Roles accepts any authenticated caller.
 */
export const Roles = (...roles: [Role, ...Role[]]) =>
  applyDecorators(
    SetMetadata(REQUIRED_ROLES, roles),
    ApiForbiddenResponse({ description: `Needs one of: ${roles.join(', ')}` }),
  );

/** The token's `amr` must contain `mfa` (creating an app password, R1). */
export const RequireMfa = () =>
  applyDecorators(
    SetMetadata(REQUIRES_MFA, true),
    ApiForbiddenResponse({ description: 'Needs a token issued after multi-factor authentication' }),
  );

/** The verified caller: `@CurrentPrincipal() principal: Principal`. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = principalOf(context.switchToHttp().getRequest<IncomingMessage>());
  // Only a @Public() route has none; asking for it there is a programming error, hence a 500.
  if (!principal) throw new Error('@CurrentPrincipal() used on a route without authentication');
  return principal;
});
