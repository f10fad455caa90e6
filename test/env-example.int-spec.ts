import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseEnv, readEnvFile } from './load-env';

const root = join(__dirname, '..');

describe('.env.example', () => {
  it('sourced by a shell (as the README does), gives every variable the value the stack tool reads', () => {
    const documented = readEnvFile(join(root, '.env.example'));
    const names = Object.keys(documented);
    const script = `set -e; set -a; source .env.example; set +a; for n in ${names.join(' ')}; do printf '%s=%s\\n' "$n" "\${!n}"; done`;
    const sourced = parseEnv(
      execFileSync('bash', ['-c', script], { cwd: root, env: { PATH: process.env.PATH }, encoding: 'utf8' }),
    );
    expect(sourced).toEqual(documented);
    // The two that need quotes: several JVM flags, and a DN with a space.
    expect(documented.KAFKA_HEAP_OPTS).toBe('-Xms256m -Xmx512m');
    expect(documented.LDAP_BIND_DN).toMatch(/^CN=latchkey-sync,OU=Service Accounts,/);
  });
});
