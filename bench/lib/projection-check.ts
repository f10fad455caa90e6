import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { PostgresEventStore } from '@latchkey/event-store';
import { CredentialsProjection } from '../../libs/app-passwords/src/infrastructure/credentials.projection';

const PROJECTED = [
  { table: 'tenants', key: 'tenant_id' },
  { table: 'accounts', key: 'user_id' },
  { table: 'credentials', key: 'app_password_id' },
] as const;

/**
 * Proves bulk-written projection rows against the real inline projection: inside a transaction that
 * is rolled back, temporary tables shadow tenants, accounts and credentials (pg_temp comes first in
 * the search path), the real CredentialsProjection replays the stored events of the tenant and of a
 * random sample of its users (read back through the real event store), and every replayed row is
 * compared column by column with the seeded one. Nothing outside the transaction changes.
 */
export async function checkProjectionSample(
  db: PoolClient,
  tenantId: string,
  sampleUsers: number,
): Promise<{ rows: number; mismatches: number }> {
  // The two methods the store and the projection use, on this one connection.
  const connection = { query: async (sql: string, params?: unknown[]) => (await db.query(sql, params)).rows };
  const store = new PostgresEventStore(connection as unknown as DataSource);
  const projection = new CredentialsProjection();
  const { rows: sample } = await db.query<{ user_id: string }>(
    `SELECT user_id FROM accounts WHERE tenant_id = $1 ORDER BY random() LIMIT $2`,
    [tenantId, sampleUsers],
  );
  const userIds = sample.map((r) => r.user_id);
  await db.query('BEGIN');
  try {
    for (const { table } of PROJECTED) {
      await db.query(`CREATE TEMP TABLE ${table} (LIKE public.${table} INCLUDING ALL) ON COMMIT DROP`);
    }
    const tx = connection as unknown as EntityManager;
    await projection.apply(tx, await store.readStream(`tenant-${tenantId}`));
    for (const userId of userIds) await projection.apply(tx, await store.readStream(`user-${userId}`));

    const seeded = {
      tenants: { sql: `SELECT * FROM public.tenants WHERE tenant_id = $1::uuid`, param: tenantId },
      accounts: { sql: `SELECT * FROM public.accounts WHERE user_id = ANY($1::uuid[])`, param: userIds },
      credentials: {
        sql: `SELECT * FROM public.credentials WHERE user_id = ANY($1::uuid[])`,
        param: userIds,
      },
    };
    let rows = 0;
    let mismatches = 0;
    for (const { table, key } of PROJECTED) {
      const {
        rows: [result],
      } = await db.query<{ rows: string; mismatches: string }>(
        `SELECT count(*) AS rows, count(*) FILTER (WHERE to_jsonb(r) IS DISTINCT FROM to_jsonb(s)) AS mismatches
         FROM pg_temp.${table} r FULL JOIN (${seeded[table].sql}) s USING (${key})`,
        [seeded[table].param],
      );
      rows += Number(result.rows);
      mismatches += Number(result.mismatches);
    }
    return { rows, mismatches };
  } finally {
    await db.query('ROLLBACK');
  }
}
