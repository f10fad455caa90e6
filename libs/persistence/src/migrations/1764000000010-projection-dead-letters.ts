import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events a Kafka-fed read model could not apply on their own while PostgreSQL answered (a malformed
 * event, a bug in the projection): set aside here, with the error, instead of stopping the model
 * for every tenant. The event itself stays in the store; once the cause is fixed, a replay applies it.
 */
export class ProjectionDeadLetters1764000000010 implements MigrationInterface {
  name = 'ProjectionDeadLetters1764000000010';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE projection_dead_letters (
        projection   text        NOT NULL,
        stream_id    text        NOT NULL,
        version      integer     NOT NULL,
        event_id     uuid        NOT NULL,
        event_type   text        NOT NULL,
        error        text        NOT NULL,
        set_aside_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (projection, stream_id, version)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE projection_dead_letters`);
  }
}
