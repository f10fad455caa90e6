// Integration and end-to-end tests read the same configuration as the stack tool: the environment
// wins, then .env, then the documented defaults in .env.example.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

/**
 * KEY=value lines of an env file, as the stack tool and dotenv read them: a value with spaces is
 * written in double quotes (so that a shell can source the file too), which are not part of it.
 */
export function readEnvFile(path: string): Record<string, string> {
  return parseEnv(readFileSync(path, 'utf8'));
}

export function parseEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]] = /^".*"$/.test(match[2]) ? match[2].slice(1, -1) : match[2];
  }
  return values;
}

for (const file of ['.env', '.env.example']) {
  const path = join(root, file);
  if (!existsSync(path)) continue;
  for (const [key, value] of Object.entries(readEnvFile(path))) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
}
