import { Decider } from './decider';
import { ConflictError, NotFoundError, ValidationError } from './domain-error';
import {
  applyPolicyPatch,
  changedPolicySettings,
  DEFAULT_TENANT_POLICY,
  TenantPolicy,
} from './tenant-policy';
import { TenantCommand } from './tenant.commands';
import { TenantEvent } from './tenant.events';

export type TenantState =
  | { status: 'absent' }
  | { status: 'created'; tenantId: string; name: string; createdAt: string; policy: TenantPolicy };

export const initialTenantState = (): TenantState => ({ status: 'absent' });

export const evolveTenant = (state: TenantState, event: TenantEvent): TenantState => {
  switch (event.type) {
    case 'TenantCreated':
      return { status: 'created', ...event.data };
    case 'TenantPolicyChanged':
      return state.status === 'created' ? { ...state, policy: event.data.policy } : state;
  }
};

const MAX_TENANT_NAME_LENGTH = 128;

const validTenantName = (name: unknown): string => {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (
    trimmed.length === 0 ||
    trimmed.length > MAX_TENANT_NAME_LENGTH ||
    /[\p{Cc}\p{Cf}\p{Cs}]/u.test(trimmed)
  ) {
    throw new ValidationError(
      'tenant.invalid-name',
      undefined,
      `A tenant name is 1 to ${MAX_TENANT_NAME_LENGTH} characters without control characters.`,
    );
  }
  return trimmed;
};

const requireTenant = (state: TenantState, tenantId: string): Extract<TenantState, { status: 'created' }> => {
  if (state.status !== 'created' || state.tenantId !== tenantId) {
    throw new NotFoundError('tenant.not-found', 'There is no such tenant.');
  }
  return state;
};

export const decideTenant = (command: TenantCommand, state: TenantState): TenantEvent[] => {
  const now = command.metadata.now.toISOString();
  switch (command.type) {
    case 'CreateTenant': {
      if (state.status !== 'absent') {
        throw new ConflictError('tenant.already-exists', undefined, 'This tenant already exists.');
      }
      const policy = applyPolicyPatch(DEFAULT_TENANT_POLICY, command.data.policy ?? {});
      return [
        {
          type: 'TenantCreated',
          data: {
            tenantId: command.data.tenantId,
            name: validTenantName(command.data.name),
            createdAt: now,
            policy,
          },
        },
      ];
    }
    case 'ChangeTenantPolicy': {
      const tenant = requireTenant(state, command.data.tenantId);
      const policy = applyPolicyPatch(tenant.policy, command.data.patch);
      const changed = changedPolicySettings(tenant.policy, policy);
      if (changed.length === 0) return [];
      return [
        { type: 'TenantPolicyChanged', data: { tenantId: tenant.tenantId, policy, changed, changedAt: now } },
      ];
    }
  }
};

export const tenantDecider: Decider<TenantCommand, TenantState, TenantEvent> = {
  decide: decideTenant,
  evolve: evolveTenant,
  initialState: initialTenantState,
};
