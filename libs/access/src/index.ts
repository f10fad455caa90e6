export { CurrentPrincipal, Public, RequireMfa, Roles } from './access.decorators';
export { AccessGuard } from './access.guard';
export { AccessModule } from './access.module';
export { devPublicKeyPem, ensureDevKeyPair, ensureDevKeys, type DevKeyFiles } from './dev-keys';
export { MAX_DEV_TOKEN_TTL_SECONDS, mintDevToken, parseTtl, type DevTokenRequest } from './dev-token.minter';
export {
  ACCEPTED_ALGORITHMS,
  InvalidTokenError,
  JwtVerifier,
  KeySourceUnavailableError,
  type JwtVerifierOptions,
} from './jwt.verifier';
export { principalOf, ROLES, type Principal, type Role } from './principal';
