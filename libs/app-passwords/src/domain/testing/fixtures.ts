import { applyPolicyPatch, DEFAULT_TENANT_POLICY, TenantPolicy, TenantPolicyPatch } from '../tenant-policy';
import { AppPasswordCreated, UserEvent, UserProvisioned } from '../user.events';
import { Verifier } from '../verifier';

/** Shared test data. Ids are fixed UUIDs; instants are fixed. */
export const TENANT_ID = '0b7c1f3e-5d2a-4c8b-9e6f-1a2b3c4d5e6f';
export const OTHER_TENANT_ID = '9f8e7d6c-5b4a-4c3d-8e2f-0a1b2c3d4e5f';
export const USER_ID = '3d6f8a1b-2c4e-4f70-9a8b-7c6d5e4f3a2b';
export const T0 = new Date('2026-03-03T14:00:00.000Z');

export const at = (minutesAfterT0: number): Date => new Date(T0.getTime() + minutesAfterT0 * 60_000);

/** A deterministic lower-case UUID for the n-th app password. */
export const appPasswordId = (n: number): string =>
  `a0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export const verifier = (n: number): Verifier => ({
  algorithm: 'hmac-sha256',
  keyId: 'pepper-2026',
  hash: Buffer.alloc(32, n).toString('base64'),
});

export const policy = (patch: TenantPolicyPatch = {}): TenantPolicy =>
  applyPolicyPatch(DEFAULT_TENANT_POLICY, { appPasswordsAllowed: true, ...patch });

export const userProvisioned = (data: Partial<UserProvisioned['data']> = {}): UserProvisioned => ({
  type: 'UserProvisioned',
  data: {
    userId: USER_ID,
    tenantId: TENANT_ID,
    username: 'alice@contoso.example',
    source: 'cloud',
    roles: ['user'],
    mfa: 'enforced',
    requiresModernAuth: false,
    origin: 'admin',
    provisionedAt: T0.toISOString(),
    ...data,
  },
});

export const mfaRegistered = (): UserEvent => ({
  type: 'MfaRegistrationCompleted',
  data: { userId: USER_ID, completedAt: T0.toISOString(), appPasswordPromptOffered: true },
});

export const appPasswordCreated = (
  n: number,
  data: Partial<AppPasswordCreated['data']> = {},
): AppPasswordCreated => ({
  type: 'AppPasswordCreated',
  data: {
    userId: USER_ID,
    appPasswordId: appPasswordId(n),
    name: `Device ${n}`,
    protocols: null,
    createdAt: T0.toISOString(),
    expiresAt: null,
    verifier: verifier(n),
    ...data,
  },
});

/** A cloud user with MFA enforced and registered: ready to create app passwords. */
export const readyUser = (): UserEvent[] => [userProvisioned(), mfaRegistered()];
