import { CommandMetadata } from './decider';
import { TenantPolicy } from './tenant-policy';
import {
  LifecycleOrigin,
  MfaState,
  ResumptionOrigin,
  SuspensionOrigin,
  UserRole,
  UserSource,
} from './user.events';
import { Verifier } from './verifier';

/**
 * Every user command names the tenant it is meant for (from the caller's token); a user of another
 * tenant answers `user.not-found`, exactly as a user that does not exist.
 * Commands whose rules depend on the tenant carry the tenant's policy, read by the handler from the
 * tenant stream: the user aggregate never reads another stream.
 */
type UserCommandOf<Type extends string, Data> = {
  type: Type;
  data: { tenantId: string; userId: string } & Data;
  metadata: CommandMetadata;
};

export type ProvisionUser = UserCommandOf<
  'ProvisionUser',
  {
    username: string;
    source: UserSource;
    roles?: UserRole[];
    mfa?: MfaState;
    requiresModernAuth?: boolean;
    origin: LifecycleOrigin;
  }
>;
export type DisableUser = UserCommandOf<'DisableUser', { origin: LifecycleOrigin }>;
export type EnableUser = UserCommandOf<'EnableUser', { origin: LifecycleOrigin }>;
export type DeleteUser = UserCommandOf<'DeleteUser', { origin: LifecycleOrigin }>;
/** The new UPN; validated and normalised like ProvisionUser's. Same origin rules as DisableUser (R8). */
export type RenameUser = UserCommandOf<'RenameUser', { username: string; origin: LifecycleOrigin }>;
/** B2: the HR fast path. The policy says whether the tenant opted in (needed for synced users only). */
export type SuspendSignIns = UserCommandOf<
  'SuspendSignIns',
  { origin: SuspensionOrigin; reason: string; tenantPolicy: TenantPolicy }
>;
export type ResumeSignIns = UserCommandOf<'ResumeSignIns', { origin: ResumptionOrigin }>;
export type SetMfaState = UserCommandOf<'SetMfaState', { mfa: MfaState }>;
export type CompleteMfaRegistration = UserCommandOf<
  'CompleteMfaRegistration',
  { tenantPolicy: TenantPolicy }
>;
export type SetModernAuthRequirement = UserCommandOf<
  'SetModernAuthRequirement',
  { requiresModernAuth: boolean }
>;
/**
 * AD's Large Integer (pwdLastSet is one): a signed 64-bit number, in canonical decimal (no leading
 * zeros), or undefined when `value` is not one.
 */
export const adLargeInteger = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || !/^-?\d{1,19}$/.test(value)) return undefined;
  const large = BigInt(value);
  return large >= -(2n ** 63n) && large < 2n ** 63n ? large.toString() : undefined;
};

export type ResetPassword = UserCommandOf<
  'ResetPassword',
  {
    origin: LifecycleOrigin;
    tenantPolicy: TenantPolicy;
    /**
     * Directory sync only: the on-premises pwdLastSet this reset carries (a timestamp, no secret).
     * The same one as the last reset recorded is that reset, propagated again (a retried job).
     */
    pwdLastSet?: string;
  }
>;
export type CreateAppPassword = UserCommandOf<
  'CreateAppPassword',
  {
    appPasswordId: string;
    name: string;
    /** B11: omitted or empty for every legacy protocol. */
    protocols?: string[];
    /** Computed by the application from the secret it generated; the secret never enters the domain. */
    verifier: Verifier;
    tenantPolicy: TenantPolicy;
  }
>;
export type DeleteAppPassword = UserCommandOf<
  'DeleteAppPassword',
  { appPasswordId: string; by: 'user' | 'admin'; tenantPolicy: TenantPolicy }
>;
export type DeleteAllAppPasswords = UserCommandOf<'DeleteAllAppPasswords', Record<never, never>>;
export type RevokeLeakedAppPassword = UserCommandOf<
  'RevokeLeakedAppPassword',
  { appPasswordId: string; leakReportId: string }
>;

export type UserCommand =
  | ProvisionUser
  | DisableUser
  | EnableUser
  | DeleteUser
  | RenameUser
  | SuspendSignIns
  | ResumeSignIns
  | SetMfaState
  | CompleteMfaRegistration
  | SetModernAuthRequirement
  | ResetPassword
  | CreateAppPassword
  | DeleteAppPassword
  | DeleteAllAppPasswords
  | RevokeLeakedAppPassword;
