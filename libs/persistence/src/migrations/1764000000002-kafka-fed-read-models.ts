import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models fed from Kafka rather than inline. Each remembers, per stream, the last version it
 * applied: Kafka keeps one stream's events in order, so an event at or below that version is a
 * re-send or a replay and is skipped, and applying the topic twice changes nothing.
 */
export class KafkaFedReadModels1764000000002 implements MigrationInterface {
  name = 'KafkaFedReadModels1764000000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE projection_stream_positions (
        projection  text    NOT NULL,
        stream_id   text    NOT NULL,
        version     integer NOT NULL,
        PRIMARY KEY (projection, stream_id)
      )`);
    // Legacy sign-in attempts per username and day (R9), for admins and auditors.
    await db.query(`
      CREATE TABLE sign_in_activity (
        tenant_id        uuid        NOT NULL,
        username         text        NOT NULL,
        day              date        NOT NULL,
        allowed          integer     NOT NULL DEFAULT 0,
        refused          integer     NOT NULL DEFAULT 0,
        refused_by_reason jsonb      NOT NULL DEFAULT '{}',
        last_attempt_at  timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, username, day)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE sign_in_activity`);
    await db.query(`DROP TABLE projection_stream_positions`);
  }
}
