import { z } from 'zod';
import {
  ADMINISTRATIVE_PROTOCOLS,
  isAdministrativeProtocol,
  LEGACY_PROTOCOLS,
  MFA_STATES,
  parseLegacyProtocol,
  USER_ROLES,
} from '../domain';

/**
 * Shapes of request bodies. They bound sizes and types at the edge; the rules themselves (names,
 * limits, scopes) are the domain's, so a body that passes here can still be refused by a rule.
 */
const boundedString = (max: number) => z.string().max(max);

/**
 * Free text that is stored as given (in a jsonb event) or compared with stored text: PostgreSQL
 * refuses NUL in text and a lone surrogate in jsonb, so such a value would fail the statement with a
 * 500 instead of being refused here.
 */
export const storableString = (max: number) =>
  boundedString(max).refine(
    (value) => !value.includes('\0') && !/\p{Cs}/u.test(value),
    'must not contain NUL or unpaired surrogate characters',
  );

/**
 * What a gateway may ask for: a legacy protocol (B11), or an administrative one, which exists only to
 * be refused (R4). Any other name is a gateway bug, answered 400 rather than as a failed sign-in.
 * Case-insensitive, as verification is.
 */
const SIGN_IN_PROTOCOLS = [...LEGACY_PROTOCOLS, ...ADMINISTRATIVE_PROTOCOLS];
const signInProtocol = boundedString(32).refine(
  (value) => parseLegacyProtocol(value) !== undefined || isAdministrativeProtocol(value),
  `must be one of ${SIGN_IN_PROTOCOLS.join(', ')}`,
);

const lockoutPatch = z.strictObject({
  threshold: z.number().int().optional(),
  baseLockSeconds: z.number().int().optional(),
  maxLockSeconds: z.number().int().optional(),
  resetAfterSeconds: z.number().int().optional(),
});

export const policyPatchSchema = z.strictObject({
  appPasswordsAllowed: z.boolean().optional(),
  legacyAuthBlocked: z.boolean().optional(),
  maxAppPasswordsPerUser: z.number().int().optional(),
  maxLifetimeDays: z.number().int().nullable().optional(),
  revokeOnPasswordReset: z.boolean().optional(),
  fastPathOffboarding: z.boolean().optional(),
  lockout: lockoutPatch.optional(),
});

export const createTenantSchema = z.strictObject({
  name: boundedString(200),
  policy: policyPatchSchema.optional(),
});

export const provisionUserSchema = z.strictObject({
  username: boundedString(320),
  mfa: z.enum(MFA_STATES as ['disabled', 'enabled', 'enforced']).optional(),
  roles: z.array(z.enum(USER_ROLES)).max(USER_ROLES.length).optional(),
  requiresModernAuth: z.boolean().optional(),
});

export const mfaStateSchema = z.strictObject({
  mfa: z.enum(MFA_STATES as ['disabled', 'enabled', 'enforced']),
});
export const modernAuthSchema = z.strictObject({ requiresModernAuth: z.boolean() });

export const createAppPasswordSchema = z.strictObject({
  name: boundedString(256),
  protocols: z
    .array(boundedString(32))
    .max(LEGACY_PROTOCOLS.length * 2)
    .optional(),
});

/**
 * The username and password are what the client typed, relayed by the gateway: text of any length
 * the body limit lets through. One too long to be a UPN (320) or an app password is a failed sign-in
 * like any other wrong one, recorded (R9) and counted by smart lockout (B8), not a 400 that would
 * leave no trace of the attempt. The gateway's own members (protocol, action, client IP) are checked.
 */
export const verifySchema = z.strictObject({
  username: z.string(),
  password: z.string(),
  protocol: signInProtocol,
  action: z.enum(['sign-in', 'administrative']).optional(),
  clientIp: z.union([z.ipv4(), z.ipv6()]),
});

export const leakReportSchema = z.strictObject({
  text: z
    .string()
    .min(1)
    .max(12 * 1024),
  source: storableString(2048).optional(),
});

/** `GET /v1/users/page`: a page of the tenant's users, in username order (limit 1..200, default 50). */
export const userPageQuerySchema = z.strictObject({
  prefix: storableString(320).pipe(z.string().min(1)).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 200')
    .transform(Number)
    .pipe(z.number().int().min(1).max(200))
    .optional(),
  cursor: z.string().min(1).max(1024).optional(),
});
