import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The read models that verification depends on, written by inline projections in the same
 * transaction as the events, so a revocation, disable, delete or policy block holds from the
 * instant its command returns. Everything here can be rebuilt from the events.
 */
export class CredentialReadModels1764000000001 implements MigrationInterface {
  name = 'CredentialReadModels1764000000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tenants (
        tenant_id        uuid        PRIMARY KEY,
        name             text        NOT NULL,
        policy           jsonb       NOT NULL,
        stream_version   integer     NOT NULL,
        created_at       timestamptz NOT NULL,
        updated_at       timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE accounts (
        user_id               uuid        PRIMARY KEY,
        tenant_id             uuid        NOT NULL REFERENCES tenants (tenant_id),
        username              text        NOT NULL,
        source                text        NOT NULL,
        status                text        NOT NULL,
        mfa                   text        NOT NULL,
        mfa_registered        boolean     NOT NULL DEFAULT false,
        requires_modern_auth  boolean     NOT NULL,
        roles                 text[]      NOT NULL,
        stream_version        integer     NOT NULL,
        created_at            timestamptz NOT NULL,
        updated_at            timestamptz NOT NULL
      )`);
    // A username names one live account per tenant; a deleted account's name may be given again.
    await db.query(
      `CREATE UNIQUE INDEX accounts_live_username ON accounts (tenant_id, username) WHERE status <> 'deleted'`,
    );
    await db.query(`
      CREATE TABLE credentials (
        app_password_id  uuid        PRIMARY KEY,
        user_id          uuid        NOT NULL REFERENCES accounts (user_id),
        tenant_id        uuid        NOT NULL,
        name             text        NOT NULL,
        protocols        text[],
        verifier_key_id  text        NOT NULL,
        verifier_hash    bytea       NOT NULL,
        created_at       timestamptz NOT NULL,
        expires_at       timestamptz,
        revoked_at       timestamptz,
        revoked_reason   text
      )`);
    // Verification finds the credential by its keyed hash: one index probe, whatever the user holds.
    await db.query(`CREATE UNIQUE INDEX credentials_verifier ON credentials (verifier_hash)`);
    await db.query(`CREATE INDEX credentials_user ON credentials (user_id, created_at)`);
    // B7: last use, written in batches by the sign-in recorder, never once per verification.
    await db.query(`
      CREATE TABLE credential_usage (
        app_password_id  uuid        PRIMARY KEY REFERENCES credentials (app_password_id),
        last_used_at     timestamptz NOT NULL,
        last_ip          text        NOT NULL,
        last_protocol    text        NOT NULL,
        uses             bigint      NOT NULL DEFAULT 0
      )`);
    // B8: smart-lockout state per username, kept for unknown usernames too.
    await db.query(`
      CREATE TABLE sign_in_lockouts (
        tenant_id   uuid        NOT NULL,
        username    text        NOT NULL,
        state       jsonb       NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, username)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['sign_in_lockouts', 'credential_usage', 'credentials', 'accounts', 'tenants']) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
