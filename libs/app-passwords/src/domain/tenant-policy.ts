import { RuleId, RuleViolationError, ValidationError } from './domain-error';

/** R3: the reference's hard limit; a tenant may set a lower one, never a higher one. */
export const MAX_APP_PASSWORDS_PER_USER = 40;
/** B7: the longest lifetime a tenant may set (ten years). */
export const MAX_LIFETIME_DAYS_LIMIT = 3650;

/** B8: smart lockout of legacy sign-ins. See smart-lockout.policy.ts for how they are used. */
export interface LockoutSettings {
  /** Distinct failed passwords that lock a client IP, or a familiarity bucket (1..100). */
  threshold: number;
  /** Length of the first lock (1..86 400 s); each further lock doubles it. */
  baseLockSeconds: number;
  /** The doubling stops here (baseLockSeconds..86 400 s). */
  maxLockSeconds: number;
  /** After this long without a failure, counters and lock growth start over (60..2 592 000 s). */
  resetAfterSeconds: number;
}

export interface TenantPolicy {
  /** R10: off by default; an admin must allow users to create app passwords. */
  appPasswordsAllowed: boolean;
  /** R13: every existing app password stops working, none is deleted. */
  legacyAuthBlocked: boolean;
  /** R3: 1..40. */
  maxAppPasswordsPerUser: number;
  /**
   * B7: null for no limit, else 1..3650 days from creation. It bounds existing app passwords too
   * (see expiryOf), never deleting one: raised again, they work until their own expiry.
   */
  maxLifetimeDays: number | null;
  /** B6: off by default, as in Entra (R5). */
  revokeOnPasswordReset: boolean;
  /** B2: HR triggers suspend a synced user's app passwords at once. Stored here, used by offboarding. */
  fastPathOffboarding: boolean;
  /** B8. */
  lockout: LockoutSettings;
}

export type TenantPolicyPatch = Partial<Omit<TenantPolicy, 'lockout'>> & {
  lockout?: Partial<LockoutSettings>;
};

/** Entra smart lockout's published defaults: 10 failures, a 60-second first lock that grows. */
export const DEFAULT_LOCKOUT_SETTINGS: Readonly<LockoutSettings> = Object.freeze({
  threshold: 10,
  baseLockSeconds: 60,
  maxLockSeconds: 3600,
  resetAfterSeconds: 3600,
});

export const DEFAULT_TENANT_POLICY: Readonly<TenantPolicy> = Object.freeze({
  appPasswordsAllowed: false,
  legacyAuthBlocked: false,
  maxAppPasswordsPerUser: MAX_APP_PASSWORDS_PER_USER,
  maxLifetimeDays: null,
  revokeOnPasswordReset: false,
  fastPathOffboarding: false,
  lockout: DEFAULT_LOCKOUT_SETTINGS,
});

/** R3: the number of live app passwords a user of this tenant may hold. */
export const appPasswordLimit = (policy: Pick<TenantPolicy, 'maxAppPasswordsPerUser'>): number =>
  Math.min(MAX_APP_PASSWORDS_PER_USER, policy.maxAppPasswordsPerUser);

const POLICY_KEYS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_TENANT_POLICY));
const LOCKOUT_KEYS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_LOCKOUT_SETTINGS));

/** The rule a setting belongs to, so its refusal names it. */
const SETTING_RULES: Readonly<Record<string, RuleId>> = {
  appPasswordsAllowed: 'R10',
  legacyAuthBlocked: 'R13',
  maxAppPasswordsPerUser: 'R3',
  maxLifetimeDays: 'B7',
  revokeOnPasswordReset: 'B6',
  fastPathOffboarding: 'B2',
};

const invalid = (setting: string, requirement: string): ValidationError => {
  const rule = setting.startsWith('lockout') ? 'B8' : SETTING_RULES[setting];
  const code = rule === undefined ? 'policy.invalid-setting' : `${rule}.invalid-setting`;
  return new ValidationError(code, rule, `Policy setting ${setting} must be ${requirement}.`);
};

const requireBoolean = (setting: string, value: unknown): boolean => {
  if (typeof value !== 'boolean') throw invalid(setting, 'true or false');
  return value;
};

const requireInteger = (setting: string, value: unknown, min: number, max: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(setting, `a whole number from ${min} to ${max}`);
  }
  return value;
};

const rejectUnknownKeys = (patch: object, known: ReadonlySet<string>, prefix: string): void => {
  for (const key of Object.keys(patch)) {
    if (!known.has(key)) {
      throw new ValidationError(
        'policy.unknown-setting',
        undefined,
        `There is no policy setting ${prefix}${key}.`,
      );
    }
  }
};

const validateLockout = (lockout: LockoutSettings): LockoutSettings => {
  const threshold = requireInteger('lockout.threshold', lockout.threshold, 1, 100);
  const baseLockSeconds = requireInteger('lockout.baseLockSeconds', lockout.baseLockSeconds, 1, 86_400);
  const maxLockSeconds = requireInteger(
    'lockout.maxLockSeconds',
    lockout.maxLockSeconds,
    baseLockSeconds,
    86_400,
  );
  const resetAfterSeconds = requireInteger(
    'lockout.resetAfterSeconds',
    lockout.resetAfterSeconds,
    60,
    2_592_000,
  );
  return { threshold, baseLockSeconds, maxLockSeconds, resetAfterSeconds };
};

/**
 * Applies a partial change to a policy and checks the whole result, so a stored policy is always
 * valid. Throws a ValidationError, or R3's RuleViolationError for a per-user limit above 40.
 */
export const applyPolicyPatch = (current: TenantPolicy, patch: TenantPolicyPatch): TenantPolicy => {
  if (typeof patch !== 'object' || patch === null) throw invalid('patch', 'an object');
  rejectUnknownKeys(patch, POLICY_KEYS, '');
  if (patch.lockout !== undefined) {
    if (typeof patch.lockout !== 'object' || patch.lockout === null) throw invalid('lockout', 'an object');
    rejectUnknownKeys(patch.lockout, LOCKOUT_KEYS, 'lockout.');
  }
  // An explicitly undefined setting means "leave it", as an omitted one does.
  const defined = <T extends object>(values: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(values ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
  const merged: TenantPolicy = {
    ...current,
    ...defined(patch),
    lockout: { ...current.lockout, ...defined(patch.lockout) },
  };
  if (
    typeof merged.maxAppPasswordsPerUser === 'number' &&
    Number.isInteger(merged.maxAppPasswordsPerUser) &&
    merged.maxAppPasswordsPerUser > MAX_APP_PASSWORDS_PER_USER
  ) {
    throw new RuleViolationError(
      'R3',
      'limit-above-maximum',
      `A tenant may lower the limit of ${MAX_APP_PASSWORDS_PER_USER} app passwords per user, never raise it.`,
    );
  }
  return {
    appPasswordsAllowed: requireBoolean('appPasswordsAllowed', merged.appPasswordsAllowed),
    legacyAuthBlocked: requireBoolean('legacyAuthBlocked', merged.legacyAuthBlocked),
    maxAppPasswordsPerUser: requireInteger(
      'maxAppPasswordsPerUser',
      merged.maxAppPasswordsPerUser,
      1,
      MAX_APP_PASSWORDS_PER_USER,
    ),
    maxLifetimeDays:
      merged.maxLifetimeDays === null
        ? null
        : requireInteger('maxLifetimeDays', merged.maxLifetimeDays, 1, MAX_LIFETIME_DAYS_LIMIT),
    revokeOnPasswordReset: requireBoolean('revokeOnPasswordReset', merged.revokeOnPasswordReset),
    fastPathOffboarding: requireBoolean('fastPathOffboarding', merged.fastPathOffboarding),
    lockout: validateLockout(merged.lockout),
  };
};

/** The top-level settings (and `lockout.*` ones) whose values differ, for the audit trail. */
export const changedPolicySettings = (before: TenantPolicy, after: TenantPolicy): string[] => {
  const changed: string[] = [];
  for (const key of Object.keys(after) as (keyof TenantPolicy)[]) {
    if (key === 'lockout') continue;
    if (before[key] !== after[key]) changed.push(key);
  }
  for (const key of Object.keys(after.lockout) as (keyof LockoutSettings)[]) {
    if (before.lockout[key] !== after.lockout[key]) changed.push(`lockout.${key}`);
  }
  return changed;
};
