import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * B3, tamper evidence: a hash chain over the events, written after the fact by one sealer (see
 * libs/audit/src/chain). One row per sealed event, carrying two links: the global chain (every
 * event, for the operator) and the event's tenant chain (what a tenant's auditor can verify alone).
 * No foreign key to events on purpose: the chain is evidence about that table, and must still say
 * what was there after a row is deleted.
 */
export class EventChain1764000000008 implements MigrationInterface {
  name = 'EventChain1764000000008';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE event_chain (
        seq              bigint  PRIMARY KEY,
        event_id         uuid    NOT NULL,
        tenant_id        uuid,
        -- The previous sealed event of the same chain: a deleted event together with its chain row
        -- still shows as a hole here.
        prev_seq         bigint,
        link             bytea   NOT NULL CHECK (octet_length(link) = 32),
        tenant_prev_seq  bigint,
        tenant_link      bytea   NOT NULL CHECK (octet_length(tenant_link) = 32)
      )`);
    await db.query(`CREATE INDEX event_chain_tenant_seq ON event_chain (tenant_id, seq)`);
    // How far the sealer has looked: every seq up to sealed_through is settled (committed or never
    // to be), so an event that appears there later was not written by the service.
    await db.query(`
      CREATE TABLE event_chain_state (
        singleton       boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
        sealed_through  bigint      NOT NULL DEFAULT 0,
        head_seq        bigint,
        head_link       bytea,
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`INSERT INTO event_chain_state DEFAULT VALUES`);
    // A copy of the chain head now and then; the copies that matter are the ones published outside
    // this database (worker log, Kafka): this table is only the convenient one to compare with.
    await db.query(`
      CREATE TABLE event_chain_anchors (
        seq             bigint      PRIMARY KEY,
        link            bytea       NOT NULL,
        sealed_through  bigint      NOT NULL,
        anchored_at     timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE event_chain_anchors`);
    await db.query(`DROP TABLE event_chain_state`);
    await db.query(`DROP TABLE event_chain`);
  }
}
