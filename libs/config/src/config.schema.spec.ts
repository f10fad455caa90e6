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

  it('refuses a broker list with a malformed entry', () => {
    expect(() => parseConfig({ ...valid, KAFKA_BROKERS: '127.0.0.1:9092,nonsense' })).toThrow(
      /KAFKA_BROKERS/,
    );
  });
});
