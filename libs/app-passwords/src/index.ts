export { AppPasswordsHttpModule, AppPasswordsModule } from './app-passwords.module';
export { CreateAppPasswordCommand, type CreatedAppPassword } from './app-passwords/create-app-password';
export { ListAppPasswords, type AppPasswordSummary } from './app-passwords/list-app-passwords';
export {
  GetMyAppPasswordPolicy,
  type CreationRefusal,
  type MyAppPasswordPolicy,
} from './app-passwords/app-password-policy';
export { Clock } from './infrastructure/clock';
export { signInStreamIds } from './infrastructure/sign-in-recorder';
export type { CommandContext } from './infrastructure/event-sourced-streams';
export { ReportLeak, type LeakReportResult } from './leak-reports/report-leak';
export {
  applySignIns,
  countSignIns,
  readableSignIns,
  recordLastUse,
  signInActivityProjection,
  upsertSignInActivity,
} from './sign-in/sign-in-activity.projection';
export { VerifySignIn, type SignInVerdict } from './sign-in/verify-sign-in.command';
export { RunTenantCommand, type TenantResult } from './tenants/tenant-commands';
export { GetUser, type UserView } from './users/get-user';
export { ListUsers, type UserPage, type UserRow } from './users/list-users';
export { RunUserCommand, type UserCommandRequest, type UserResult } from './users/user-commands';
export {
  ConflictError,
  DomainError,
  normaliseUsername,
  NotFoundError,
  toPublishableEvent,
  ValidationError,
} from './domain';
/** B4: the pure folds and the sign-in rule, so the audit can answer "could it sign in then?" from history. */
export {
  ADMINISTRATIVE_PROTOCOLS,
  decideSignIn,
  DEFAULT_TENANT_POLICY,
  evolveTenant,
  evolveUser,
  initialLockoutState,
  initialTenantState,
  initialUserState,
  isAdministrativeProtocol,
  expiryOf,
  isExpired,
  isTenantEventType,
  isUserEventType,
  isUuid,
  LEGACY_PROTOCOLS,
  lockStatus,
  parseLegacyProtocol,
  registerFailedSignIn,
  registerSuccessfulSignIn,
  tenantStreamId,
  userStreamId,
  type ExistingUser,
  type LegacyProtocol,
  type LockoutState,
  type LockStatus,
  type RuleId,
  type SignInRefusal,
  type TenantEvent,
  type TenantPolicy,
  type TenantState,
  type UserEvent,
  type UserState,
} from './domain';
export { SIGN_IN_EVENT_TYPES } from './infrastructure/sign-in-recorder';
/** Replay (libs/audit): the inline projection, run again into fresh tables, and the types it projects. */
export { CredentialsProjection } from './infrastructure/credentials.projection';
export { TENANT_EVENT_TYPES, USER_EVENT_TYPES } from './domain';
export { allInvalidation } from './infrastructure/verification/invalidations';
export { VerificationCoherence } from './infrastructure/verification/verification-coherence';
export { VerificationReplica } from './infrastructure/verification/verification-replica';
export { EventPublicationModule } from './publication/event-publication';
