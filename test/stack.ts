import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Runs the stack tool (`up`/`down` SERVICE…), for fault tests that stop a service and start it again. */
export function stack(...args: string[]): void {
  execFileSync('bash', [join(__dirname, '../stack/stack.sh'), ...args], { stdio: 'pipe', timeout: 120_000 });
}
