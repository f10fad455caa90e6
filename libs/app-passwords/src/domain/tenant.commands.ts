import { CommandMetadata } from './decider';
import { TenantPolicyPatch } from './tenant-policy';

export type CreateTenant = {
  type: 'CreateTenant';
  data: {
    tenantId: string;
    name: string;
    /** Settings that differ from DEFAULT_TENANT_POLICY at creation. */
    policy?: TenantPolicyPatch;
  };
  metadata: CommandMetadata;
};

export type ChangeTenantPolicy = {
  type: 'ChangeTenantPolicy';
  data: { tenantId: string; patch: TenantPolicyPatch };
  metadata: CommandMetadata;
};

export type TenantCommand = CreateTenant | ChangeTenantPolicy;
