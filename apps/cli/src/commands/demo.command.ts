import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { ensureDevKeys, mintDevToken, type Role } from '@latchkey/access';
import { loadConfig } from '../load-config';

interface DemoState {
  tenantId: string;
  aliceId: string;
}

/**
 * `demo`: a first tenant to try, through the running API as a client would: the tenant with app
 * passwords allowed, alice with MFA enforced and registered, and fresh tokens for an admin, alice
 * and a gateway, written as shell variables to the env file (default .stack/demo.env).
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('set up the demo tenant through the running API and print tokens to try it')
    .option('--api <url>', 'the API', `http://127.0.0.1:${process.env.API_PORT ?? 3000}`)
    .option('--env-file <path>', 'where to write TENANT_ID, ALICE_ID and the tokens', '.stack/demo.env')
    .action(async ({ api, envFile }: { api: string; envFile: string }) => {
      const config = await loadConfig();
      if (config.env === 'production') throw new Error('the demo tenant is for development only');
      if (config.auth.keySource.kind !== 'pem')
        throw new Error('the demo needs the development key (JWT_PUBLIC_KEY_FILE)');
      const keys = {
        privateKeyFile: config.auth.devPrivateKeyFile,
        publicKeyFile: config.auth.keySource.file,
      };
      ensureDevKeys(keys);
      const token = (tenantId: string, subject: string, roles: Role[]) =>
        mintDevToken(keys.privateKeyFile, {
          tenantId,
          subject,
          roles,
          mfa: true,
          ttlSeconds: 86_400,
          issuer: config.auth.issuer,
          audience: config.auth.audience,
        });

      const stateFile = `${dirname(envFile)}/demo.json`;
      const known: DemoState | undefined = existsSync(stateFile)
        ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState)
        : undefined;
      const tenantId = known?.tenantId ?? randomUUID();
      const admin = await token(tenantId, 'demo-admin', ['tenant-admin']);
      const call = async (method: string, path: string, bearer: string, body?: unknown) => {
        const response = await fetch(`${api}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${bearer}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
        const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
        if (!response.ok && response.status !== 409) {
          throw new Error(`${method} ${path}: ${response.status} ${String(json.detail ?? json.title ?? '')}`);
        }
        return json;
      };

      let aliceId = known?.aliceId;
      if (!known) {
        await call('POST', '/v1/tenant', admin, { name: 'Demo', policy: { appPasswordsAllowed: true } });
        const alice = await call('POST', '/v1/users', admin, {
          username: 'alice@cloud.latchkey.test',
          mfa: 'enforced',
        });
        aliceId = String(alice.userId);
        mkdirSync(dirname(stateFile), { recursive: true });
        writeFileSync(stateFile, JSON.stringify({ tenantId, aliceId }));
      }
      const aliceToken = await token(tenantId, aliceId!, ['user']);
      await call('POST', '/v1/me/mfa-registration', aliceToken);
      const gateway = await token(tenantId, 'demo-mail-gateway', ['gateway']);

      writeFileSync(
        envFile,
        [
          `# Demo tenant of ${api}; tokens valid for a day (npm start makes new ones).`,
          `TENANT_ID=${tenantId}`,
          `ALICE_ID=${aliceId}`,
          `ADMIN_TOKEN=${admin}`,
          `ALICE_TOKEN=${aliceToken}`,
          `GATEWAY_TOKEN=${gateway}`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      console.log(`demo tenant ${tenantId}: alice@cloud.latchkey.test (${aliceId}); tokens in ${envFile}`);
    });
}
