import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * HR offboarding. Each tenant's webhook secret is sealed with a key from configuration (never in an
 * event); during a rotation the previous one stays valid for a while. `offboardings` is a read model
 * of the offboarding streams, written in the events' transaction: the idempotency key's first answer,
 * and which offboardings are still to be carried out (their jobs are re-created from it and the
 * events when Redis loses them). A directory connection may carry a separate write credential.
 */
export class Offboarding1764000000005 implements MigrationInterface {
  name = 'Offboarding1764000000005';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE hr_webhook_secrets (
        tenant_id               uuid        PRIMARY KEY,
        secret_id               uuid        NOT NULL,
        sealed_secret           text        NOT NULL,
        sealed_previous_secret  text,
        previous_valid_until    timestamptz,
        rotated_at              timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE offboardings (
        offboarding_id   uuid        PRIMARY KEY,
        tenant_id        uuid        NOT NULL,
        idempotency_key  text        NOT NULL,
        request_hash     text        NOT NULL,
        effective_at     timestamptz NOT NULL,
        settled_at       timestamptz,
        requested_at     timestamptz NOT NULL,
        CONSTRAINT offboardings_idempotency UNIQUE (tenant_id, idempotency_key)
      )`);
    await db.query(
      `CREATE INDEX offboardings_unsettled ON offboardings (effective_at) WHERE settled_at IS NULL`,
    );
    await db.query(`
      ALTER TABLE directory_connections
        ADD COLUMN write_bind_dn text,
        ADD COLUMN sealed_write_bind_password text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE directory_connections DROP COLUMN write_bind_dn, DROP COLUMN sealed_write_bind_password`);
    await db.query(`DROP TABLE offboardings`);
    await db.query(`DROP TABLE hr_webhook_secrets`);
  }
}
