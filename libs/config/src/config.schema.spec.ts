import { ConfigError, parseConfig } from './config.schema';

const valid = {
  POSTGRES_HOST: '127.0.0.1',
  POSTGRES_PORT: '5432',
  POSTGRES_USER: 'latchkey',
  POSTGRES_PASSWORD: 'secret-pg',
  POSTGRES_DB: 'latchkey',
  REDIS_HOST: '127.0.0.1',
  REDIS_PORT: '6379',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9094',
  APP_PASSWORD_PEPPER: 'ZGV2ZWxvcG1lbnQtb25seS1wZXBwZXItMzItYnl0ZXMhIQ==',
  DIRECTORY_SECRET_KEY: 'ZGV2LW9ubHktZGlyZWN0b3J5LXNlY3JldC1rZXktMzI=',
  LDAP_URL: 'ldaps://127.0.0.1:636',
  LDAP_CA_FILE: '.stack/samba/ca.pem',
  LDAP_BASE_DN: 'DC=latchkey,DC=test',
  LDAP_BIND_DN: 'CN=latchkey-sync,DC=latchkey,DC=test',
  LDAP_BIND_PASSWORD: 'secret-bind',
};

describe('configuration', () => {
  it('parses a complete environment into typed sections with defaults', () => {
    const config = parseConfig(valid);
    expect(config.postgres.port).toBe(5432);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9094']);
    expect(config.api.port).toBe(3000);
    expect(config.redis.prefix).toBe('latchkey');
  });

  it('names a missing variable', () => {
    const { POSTGRES_HOST: _omitted, ...env } = valid;
    expect(() => parseConfig(env)).toThrow(/POSTGRES_HOST is missing/);
  });

  it('names every bad value without echoing it', () => {
    let error: unknown;
    try {
      parseConfig({
        ...valid,
        REDIS_PORT: 'seventy',
        LDAP_URL: 'ldap://dc.example:389',
        LDAP_BIND_PASSWORD: '',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/REDIS_PORT is invalid/);
    expect(message).toMatch(/LDAP_URL is invalid: expected ldaps:/);
    expect(message).toMatch(/LDAP_BIND_PASSWORD is invalid/);
    expect(message).not.toContain('seventy');
    expect(message).not.toContain('secret');
  });

  it('defaults authentication to the development issuer, audience and public key file', () => {
    expect(parseConfig(valid).auth).toEqual({
      issuer: 'https://latchkey.local/dev',
      audience: 'latchkey',
      keySource: { kind: 'pem', file: '.stack/dev-keys/jwt-dev.public.pem' },
      devPrivateKeyFile: '.stack/dev-keys/jwt-dev.private.pem',
      clockToleranceSeconds: 30,
    });
  });

  it('trusts an external issuer through its JWKS URL', () => {
    const config = parseConfig({
      ...valid,
      JWT_JWKS_URL: 'https://login.example.com/keys',
      JWT_PUBLIC_KEY_FILE: '',
    });
    expect(config.auth.keySource).toEqual({ kind: 'jwks', url: 'https://login.example.com/keys' });
  });

  it('refuses two key sources at once, naming both', () => {
    const attempt = () =>
      parseConfig({ ...valid, JWT_JWKS_URL: 'https://login.example.com/keys', JWT_PUBLIC_KEY_FILE: 'k.pem' });
    expect(attempt).toThrow(/JWT_JWKS_URL is invalid: set only one/);
    expect(attempt).toThrow(/JWT_PUBLIC_KEY_FILE is invalid: set only one/);
  });

  it('refuses a JWKS URL over plain http unless it is on loopback', () => {
    expect(() => parseConfig({ ...valid, JWT_JWKS_URL: 'http://login.example.com/keys' })).toThrow(
      /JWT_JWKS_URL is invalid/,
    );
    expect(parseConfig({ ...valid, JWT_JWKS_URL: 'http://127.0.0.1:8080/keys' }).auth.keySource.kind).toBe(
      'jwks',
    );
  });

  it('will not fall back to the development key in production', () => {
    expect(() => parseConfig({ ...valid, NODE_ENV: 'production' })).toThrow(
      /JWT_JWKS_URL is missing: production needs JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE/,
    );
    const config = parseConfig({
      ...valid,
      NODE_ENV: 'production',
      JWT_PUBLIC_KEY_FILE: '/etc/latchkey/jwt.pem',
    });
    expect(config.auth.keySource).toEqual({ kind: 'pem', file: '/etc/latchkey/jwt.pem' });
  });

  it('bounds the clock tolerance', () => {
    expect(() => parseConfig({ ...valid, JWT_CLOCK_TOLERANCE_S: '3600' })).toThrow(
      /JWT_CLOCK_TOLERANCE_S is invalid/,
    );
  });

  it('trusts no proxy unless told, then a hop count or named proxies, never every peer', () => {
    expect(parseConfig(valid).api.trustProxy).toBe(false);
    expect(parseConfig({ ...valid, TRUST_PROXY: 'false' }).api.trustProxy).toBe(false);
    expect(parseConfig({ ...valid, TRUST_PROXY: '' }).api.trustProxy).toBe(false); // `TRUST_PROXY=` in .env
    expect(parseConfig({ ...valid, TRUST_PROXY: '2' }).api.trustProxy).toBe(2);
    expect(
      parseConfig({ ...valid, TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.7' }).api.trustProxy,
    ).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.7']);
    for (const bad of ['true', '*', '10.0.0.0/33', 'fd00::/129', 'proxy.example', '10.0.0.1/8/2', '0', '12'])
      expect(() => parseConfig({ ...valid, TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
  });

  it('refuses a broker list with a malformed entry', () => {
    expect(() => parseConfig({ ...valid, KAFKA_BROKERS: '127.0.0.1:9092,nonsense' })).toThrow(
      /KAFKA_BROKERS/,
    );
  });

  describe('the web console', () => {
    const tenant = '0b6f6a55-5f29-4b43-9d7a-2f1d8f3e1c11';

    it('offers neither sign-in unless configured', () => {
      expect(parseConfig(valid).console).toEqual({ oidc: null, devSignIn: null });
    });

    it('signs in with an OIDC issuer as a public client', () => {
      const config = parseConfig({ ...valid, CONSOLE_OIDC_ISSUER: 'https://login.example.com/tenant/v2.0' });
      expect(config.console.oidc).toEqual({
        issuer: 'https://login.example.com/tenant/v2.0',
        clientId: 'latchkey-console',
        scope: 'openid',
        resource: null,
      });
      expect(() => parseConfig({ ...valid, CONSOLE_OIDC_ISSUER: 'http://login.example.com/' })).toThrow(
        /CONSOLE_OIDC_ISSUER is invalid/,
      );
    });

    it('turns the development sign-in on only when asked, for a named tenant', () => {
      expect(
        parseConfig({ ...valid, CONSOLE_DEV_SIGN_IN: 'true', CONSOLE_DEV_TENANT_ID: tenant }).console
          .devSignIn,
      ).toEqual({ tenantId: tenant });
      expect(() => parseConfig({ ...valid, CONSOLE_DEV_SIGN_IN: 'true' })).toThrow(
        /CONSOLE_DEV_TENANT_ID is missing/,
      );
      expect(parseConfig({ ...valid, CONSOLE_DEV_TENANT_ID: tenant }).console.devSignIn).toBeNull();
    });

    it('never allows the development sign-in in production, nor beside an external key set', () => {
      const on = { ...valid, CONSOLE_DEV_SIGN_IN: 'true', CONSOLE_DEV_TENANT_ID: tenant };
      expect(() =>
        parseConfig({ ...on, NODE_ENV: 'production', JWT_PUBLIC_KEY_FILE: '/etc/latchkey/jwt.pem' }),
      ).toThrow(/CONSOLE_DEV_SIGN_IN is invalid: the development sign-in is never available in production/);
      expect(() =>
        parseConfig({ ...on, JWT_JWKS_URL: 'https://login.example.com/keys', JWT_PUBLIC_KEY_FILE: '' }),
      ).toThrow(/CONSOLE_DEV_SIGN_IN is invalid: the development sign-in needs the development key/);
    });
  });
});
