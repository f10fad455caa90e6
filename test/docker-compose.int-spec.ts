import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readEnvFile } from './load-env';

const root = join(__dirname, '..');
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, { ports?: string[] }> };
const envExample = readEnvFile(join(root, '.env.example'));

describe('docker-compose.yml', () => {
  it('is accepted by `docker-compose config` (Debian validates it without an engine)', () => {
    expect(() =>
      execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
        cwd: root,
        stdio: 'pipe',
      }),
    ).not.toThrow();
  });

  it('defaults every variable it reads to the value documented in .env.example', () => {
    const references = [...composeText.matchAll(/\$\{([A-Z0-9_]+):-([^}]*)\}/g)];
    expect(references.length).toBeGreaterThan(5);
    for (const [, name, fallback] of references) {
      expect({ name, fallback }).toEqual({ name, fallback: envExample[name] });
    }
  });

  it.each([
    ['postgres', 'POSTGRES_PORT', 5432],
    ['redis', 'REDIS_PORT', 6379],
    ['kafka', 'KAFKA_PORT', 9092],
    ['samba', 'LDAP_URL', 636],
  ])('publishes %s on 127.0.0.1 at the port the stack uses (%s)', (service, variable, containerPort) => {
    const ports = compose.services[service]?.ports ?? [];
    const hostPort =
      variable === 'LDAP_URL' ? new URL(envExample.LDAP_URL).port || '636' : `\${${variable}:-`;
    expect(ports.some((p) => p.startsWith(`127.0.0.1:${hostPort}`) && p.endsWith(`:${containerPort}`))).toBe(
      true,
    );
  });
});
