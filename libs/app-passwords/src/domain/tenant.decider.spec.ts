import { foldEvents } from './decider';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from './domain-error';
import { DEFAULT_TENANT_POLICY, TenantPolicy } from './tenant-policy';
import { ChangeTenantPolicy } from './tenant.commands';
import { tenantDecider } from './tenant.decider';
import { TenantCreated, TenantEvent } from './tenant.events';
import { DeciderSpecification } from './testing/decider.specification';
import { at, OTHER_TENANT_ID, T0, TENANT_ID } from './testing/fixtures';

const given = DeciderSpecification.for(tenantDecider);

const tenantCreated = (policy: TenantPolicy = DEFAULT_TENANT_POLICY): TenantCreated => ({
  type: 'TenantCreated',
  data: { tenantId: TENANT_ID, name: 'Contoso', createdAt: T0.toISOString(), policy },
});

const changePolicy = (
  patch: ChangeTenantPolicy['data']['patch'],
  tenantId = TENANT_ID,
): ChangeTenantPolicy => ({
  type: 'ChangeTenantPolicy',
  data: { tenantId, patch },
  metadata: { now: at(5) },
});

describe('tenant decider', () => {
  it('creates a tenant carrying its full initial policy', () => {
    given()
      .when({
        type: 'CreateTenant',
        data: { tenantId: TENANT_ID, name: '  Contoso ' },
        metadata: { now: T0 },
      })
      .then(tenantCreated());
  });

  it('R10: a new tenant does not allow app passwords until an admin allows them', () => {
    const [event] = given()
      .when({ type: 'CreateTenant', data: { tenantId: TENANT_ID, name: 'Contoso' }, metadata: { now: T0 } })
      .events();
    expect(event.data.policy.appPasswordsAllowed).toBe(false);
  });

  it('R13, B6, B2: legacy auth is not blocked, reset does not revoke, fast path is off by default', () => {
    expect(DEFAULT_TENANT_POLICY).toMatchObject({
      legacyAuthBlocked: false,
      revokeOnPasswordReset: false,
      fastPathOffboarding: false,
      maxAppPasswordsPerUser: 40,
      maxLifetimeDays: null,
    });
  });

  it('refuses to create a tenant twice', () => {
    given(tenantCreated())
      .when({ type: 'CreateTenant', data: { tenantId: TENANT_ID, name: 'Again' }, metadata: { now: T0 } })
      .thenRefuses(ConflictError, 'tenant.already-exists');
  });

  it('refuses an empty tenant name', () => {
    given()
      .when({ type: 'CreateTenant', data: { tenantId: TENANT_ID, name: ' \t' }, metadata: { now: T0 } })
      .thenRefuses(ValidationError, 'tenant.invalid-name');
  });

  it('R10: allowing app passwords records the full new policy and what changed', () => {
    given(tenantCreated())
      .when(changePolicy({ appPasswordsAllowed: true, lockout: { threshold: 5 } }))
      .then({
        type: 'TenantPolicyChanged',
        data: {
          tenantId: TENANT_ID,
          policy: {
            ...DEFAULT_TENANT_POLICY,
            appPasswordsAllowed: true,
            lockout: { ...DEFAULT_TENANT_POLICY.lockout, threshold: 5 },
          },
          changed: ['appPasswordsAllowed', 'lockout.threshold'],
          changedAt: at(5).toISOString(),
        },
      });
  });

  it('an explicitly undefined setting is left as it is', () => {
    given(tenantCreated())
      .when(changePolicy({ maxLifetimeDays: undefined, lockout: { threshold: undefined } }))
      .thenNothing();
  });

  it('a patch that changes nothing emits nothing', () => {
    given(tenantCreated())
      .when(changePolicy({ appPasswordsAllowed: false, maxLifetimeDays: null }))
      .thenNothing();
  });

  it('R3: a tenant may lower the per-user limit', () => {
    const [event] = given(tenantCreated())
      .when(changePolicy({ maxAppPasswordsPerUser: 5 }))
      .events();
    expect(event.data.policy.maxAppPasswordsPerUser).toBe(5);
  });

  it('R3: a tenant may never raise the per-user limit above 40', () => {
    given(tenantCreated())
      .when(changePolicy({ maxAppPasswordsPerUser: 41 }))
      .thenRefuses(RuleViolationError, 'R3.limit-above-maximum');
  });

  it.each([0, -1, 2.5])('R3: a per-user limit of %p is refused', (limit) => {
    given(tenantCreated())
      .when(changePolicy({ maxAppPasswordsPerUser: limit }))
      .thenRefuses(ValidationError, 'R3.invalid-setting');
  });

  it.each([0, 3651, 1.5])('B7: a maximum lifetime of %p days is refused', (days) => {
    given(tenantCreated())
      .when(changePolicy({ maxLifetimeDays: days }))
      .thenRefuses(ValidationError, 'B7.invalid-setting');
  });

  it('B7: a maximum lifetime can be set and removed again', () => {
    const events = given(tenantCreated())
      .when(changePolicy({ maxLifetimeDays: 90 }))
      .events();
    expect(events[0].data.policy.maxLifetimeDays).toBe(90);
    const removed = given(tenantCreated(), ...events)
      .when(changePolicy({ maxLifetimeDays: null }))
      .events();
    expect(removed[0].data.policy.maxLifetimeDays).toBeNull();
  });

  it('B8: a maximum lock shorter than the first lock is refused', () => {
    given(tenantCreated())
      .when(changePolicy({ lockout: { baseLockSeconds: 600, maxLockSeconds: 60 } }))
      .thenRefuses(ValidationError, 'B8.invalid-setting');
  });

  it('refuses a setting that does not exist, and a wrongly typed one', () => {
    given(tenantCreated())
      .when(changePolicy({ allowEverything: true } as never))
      .thenRefuses(ValidationError, 'policy.unknown-setting');
    given(tenantCreated())
      .when(changePolicy({ legacyAuthBlocked: 'yes' } as never))
      .thenRefuses(ValidationError, 'R13.invalid-setting');
  });

  it('answers not-found for another tenant id, and for a tenant never created', () => {
    given(tenantCreated())
      .when(changePolicy({ appPasswordsAllowed: true }, OTHER_TENANT_ID))
      .thenRefuses(NotFoundError, 'tenant.not-found');
    given()
      .when(changePolicy({ appPasswordsAllowed: true }))
      .thenRefuses(NotFoundError, 'tenant.not-found');
  });

  it('replaying its events reproduces the policy', () => {
    const history: TenantEvent[] = [tenantCreated()];
    for (const patch of [
      { appPasswordsAllowed: true },
      { legacyAuthBlocked: true },
      { maxAppPasswordsPerUser: 3 },
    ]) {
      history.push(...tenantDecider.decide(changePolicy(patch), foldEvents(tenantDecider, history)));
    }
    const replayed = foldEvents(tenantDecider, JSON.parse(JSON.stringify(history)) as TenantEvent[]);
    expect(replayed).toEqual({
      status: 'created',
      tenantId: TENANT_ID,
      name: 'Contoso',
      createdAt: T0.toISOString(),
      policy: {
        ...DEFAULT_TENANT_POLICY,
        appPasswordsAllowed: true,
        legacyAuthBlocked: true,
        maxAppPasswordsPerUser: 3,
      },
    });
  });
});
