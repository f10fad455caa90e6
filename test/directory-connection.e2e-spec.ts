// A tenant admin connects the on-premises directory over HTTP, choosing how its changes are read
// (DirSync, uSNChanged polling, or DirSync with polling where the directory refuses it), and the
// API documents that choice as it validates it.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { parseConfig } from '@latchkey/config';
import { dataSourceOptions } from '@latchkey/persistence';
import { ApiClient, expectProblem, startApi } from './api-client';
import { mintToken } from './tokens';

const PORT = 3197;
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

let api: ApiClient;
let stop: () => void;
let db: DataSource;
const tenants: string[] = [];

/** A tenant of its own, and its admin's token. */
async function tenantAdmin(): Promise<string> {
  const tenantId = randomUUID();
  tenants.push(tenantId);
  const admin = await mintToken({ tenantId, sub: 'admin', roles: ['tenant-admin'] });
  expect((await api.post('/v1/tenant', admin, { name: `Federated ${tenantId.slice(0, 8)}` })).status).toBe(
    201,
  );
  return admin;
}

/** The stack's Samba AD, as the sync worker's service account reads it. */
const sambaConnection = () => ({
  url: env('LDAP_URL'),
  caPem: readFileSync(join(__dirname, '..', env('LDAP_CA_FILE')), 'utf8'),
  bindDn: env('LDAP_BIND_DN'),
  bindPassword: env('LDAP_BIND_PASSWORD'),
  baseDn: env('LDAP_BASE_DN'),
  usersOnlyUnder: env('LDAP_USERS_OU'),
  delayModel: { kind: 'fixed', delayMs: 60_000 },
});

describe('PUT /v1/directory: how the directory’s changes are read', () => {
  beforeAll(async () => {
    ({ api, stop } = await startApi(PORT));
    db = await new DataSource({
      ...dataSourceOptions(parseConfig(process.env)),
      extra: { max: 1 },
    }).initialize();
  }, 60_000);

  afterAll(async () => {
    for (const tenantId of tenants) {
      await db?.query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]);
      await db?.query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId]);
    }
    await db?.destroy();
    stop?.();
  });

  it('documents changeDetection in the OpenAPI body of PUT /v1/directory, with its three values', async () => {
    const document = (await api.get('/docs/openapi.json')).body;
    const schema = document.paths['/v1/directory'].put.requestBody.content['application/json'].schema;
    expect(schema.properties.changeDetection).toMatchObject({
      type: 'string',
      enum: ['auto', 'dirsync', 'usn'],
      description: expect.stringContaining('uSNChanged'),
    });
    expect(schema.required).not.toContain('changeDetection');
    expect(schema.additionalProperties).toBe(false);
  });

  it('connects with uSNChanged polling when asked, and says so (never the bind password)', async () => {
    const admin = await tenantAdmin();
    const connected = await api.put('/v1/directory', admin, { ...sambaConnection(), changeDetection: 'usn' });

    expect(connected.status).toBe(200);
    expect(connected.body).toMatchObject({ changeDetection: 'usn', lastPass: null });
    expect(connected.text).not.toContain(env('LDAP_BIND_PASSWORD'));
    expect((await api.get('/v1/directory', admin)).body).toMatchObject({ changeDetection: 'usn' });
  });

  it('reads with DirSync, polling where the directory refuses it, unless told otherwise (auto)', async () => {
    const admin = await tenantAdmin();
    const connected = await api.put('/v1/directory', admin, sambaConnection());

    expect(connected.status).toBe(200);
    expect(connected.body.changeDetection).toBe('auto');
  });

  it('refuses a mode it does not know with a 400 problem that points at the member, and connects nothing', async () => {
    const admin = await tenantAdmin();
    const refused = await api.put('/v1/directory', admin, { ...sambaConnection(), changeDetection: 'ldif' });

    expectProblem(refused, 400, 'validation-failed');
    expect(refused.body.errors).toEqual([expect.objectContaining({ pointer: '/changeDetection' })]);
    expectProblem(await api.get('/v1/directory', admin), 404);
  });
});
