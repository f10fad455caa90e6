import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where each federated tenant's directory is and how the worker reads it. The bind password is
 * sealed with a key from configuration and lives only here, never in an event. The DirSync cookie
 * is stored with the identity of the domain controller it belongs to, in the same transaction as
 * the pass's events, so a pass is either recorded with its cookie or read again.
 */
export class DirectoryConnections1764000000004 implements MigrationInterface {
  name = 'DirectoryConnections1764000000004';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE directory_connections (
        tenant_id             uuid        PRIMARY KEY,
        url                   text        NOT NULL,
        ca_pem                text        NOT NULL,
        bind_dn               text        NOT NULL,
        sealed_bind_password  text        NOT NULL,
        base_dn               text        NOT NULL,
        updated_at            timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE directory_sync_cookies (
        tenant_id    uuid        PRIMARY KEY REFERENCES directory_connections (tenant_id),
        dc_identity  text        NOT NULL,
        cookie       bytea       NOT NULL,
        pass_id      uuid        NOT NULL,
        stored_at    timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE directory_sync_cookies`);
    await db.query(`DROP TABLE directory_connections`);
  }
}
