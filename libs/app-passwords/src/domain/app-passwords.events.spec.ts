import {
  EVENT_SCHEMA_VERSIONS,
  isTenantEventType,
  isUserEventType,
  toPublishableEvent,
  USER_EVENT_TYPES,
} from './app-passwords.events';
import { isUuid, normaliseUsername, parseStreamId, tenantStreamId, userStreamId } from './identifiers';
import { appPasswordCreated, TENANT_ID, USER_ID, verifier } from './testing/fixtures';

describe('app-passwords events', () => {
  it('every event type has a schema version and a stable PascalCase, past-tense name', () => {
    expect(Object.keys(EVENT_SCHEMA_VERSIONS).sort()).toEqual([
      'AppPasswordCreated',
      'AppPasswordRevoked',
      'MfaRegistrationCompleted',
      'TenantCreated',
      'TenantPolicyChanged',
      'UserDeleted',
      'UserDisabled',
      'UserEnabled',
      'UserMfaStateChanged',
      'UserModernAuthRequirementChanged',
      'UserPasswordReset',
      'UserProvisioned',
      'UserRenamed',
      'UserSignInsResumed',
      'UserSignInsSuspended',
    ]);
    for (const version of Object.values(EVENT_SCHEMA_VERSIONS)) expect(version).toBe(1);
    expect(USER_EVENT_TYPES).toContain('AppPasswordRevoked');
    expect(isUserEventType('UserDisabled')).toBe(true);
    expect(isTenantEventType('UserDisabled')).toBe(false);
    expect(isUserEventType('toString')).toBe(false);
  });

  it('the verifier never leaves PostgreSQL: the publishable form drops it', () => {
    const created = appPasswordCreated(1);
    const published = toPublishableEvent(created);
    expect(JSON.stringify(published)).not.toContain(verifier(1).hash);
    expect(published).toEqual({ type: 'AppPasswordCreated', data: { ...created.data, verifier: undefined } });
    expect(created.data.verifier).toEqual(verifier(1));
  });
});

describe('identifiers', () => {
  it('builds and parses stream ids of lower-case UUIDs only', () => {
    expect(tenantStreamId(TENANT_ID)).toBe(`tenant-${TENANT_ID}`);
    expect(parseStreamId(userStreamId(USER_ID))).toEqual({ aggregate: 'user', id: USER_ID });
    expect(parseStreamId(`user-${USER_ID.toUpperCase()}`)).toBeUndefined();
    expect(parseStreamId('order-1')).toBeUndefined();
    expect(() => userStreamId('1 OR 1=1')).toThrow(/UUID/);
    expect(isUuid('__proto__')).toBe(false);
  });

  it('normalises usernames to NFKC lower case and refuses what cannot be a UPN', () => {
    expect(normaliseUsername(' Alice@Contoso.Example ')).toBe('alice@contoso.example');
    expect(normaliseUsername('ａｌｉｃｅ@contoso.example')).toBe('alice@contoso.example');
    for (const bad of [
      'alice',
      '@contoso.example',
      'a b@contoso.example',
      'alice@contoso',
      'al\u200bice@x.example',
    ]) {
      expect(normaliseUsername(bad)).toBeUndefined();
    }
    expect(normaliseUsername(`${'a'.repeat(250)}@x.example`)).toBeUndefined();
  });
});
