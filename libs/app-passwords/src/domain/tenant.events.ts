import { TenantPolicy } from './tenant-policy';

/**
 * Events of a tenant stream (`tenant-<uuid>`). Type strings are stored and must never change; a new
 * payload shape gets a new schema version and an upcaster, not a renamed type.
 */
export type TenantCreated = {
  type: 'TenantCreated';
  data: {
    tenantId: string;
    name: string;
    createdAt: string;
    /** The full initial policy, so changing a default in code never rewrites a stored tenant. */
    policy: TenantPolicy;
  };
};

export type TenantPolicyChanged = {
  type: 'TenantPolicyChanged';
  data: {
    tenantId: string;
    /** The full new policy, so a reader needs no earlier event to know it. */
    policy: TenantPolicy;
    /** Settings that differ from the previous policy (`lockout.threshold` for nested ones). */
    changed: string[];
    changedAt: string;
  };
};

export type TenantEvent = TenantCreated | TenantPolicyChanged;

export const TENANT_EVENT_SCHEMA_VERSIONS: Readonly<Record<TenantEvent['type'], number>> = Object.freeze({
  TenantCreated: 1,
  TenantPolicyChanged: 1,
});
