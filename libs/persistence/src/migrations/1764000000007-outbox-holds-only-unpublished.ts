import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox holds only what is not yet on Kafka: the relay deletes a row once its event is
 * published instead of stamping it. A stamp wrote a new row version and new index entries per
 * event (the partial index's column changed, so no HOT update) and kept every row forever; the
 * events table is the record, and Kafka has the publication.
 */
export class OutboxHoldsOnlyUnpublished1764000000007 implements MigrationInterface {
  name = 'OutboxHoldsOnlyUnpublished1764000000007';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM outbox WHERE published_at IS NOT NULL`);
    await db.query(`DROP INDEX outbox_unpublished`);
    await db.query(`ALTER TABLE outbox DROP COLUMN published_at`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox ADD COLUMN published_at timestamptz`);
    await db.query(`CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
  }
}
