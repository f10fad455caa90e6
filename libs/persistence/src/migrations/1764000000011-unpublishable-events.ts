import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events the outbox relay could not publish at all: one larger than Kafka takes in a message. The
 * relay publishes in order, so such an event would hold back every event after it, for every tenant,
 * for good; it is set aside here instead (its outbox row goes) and reported as an error. The event
 * stays in the store, the record; a Kafka-fed read model rebuilt from the store sees it.
 */
export class UnpublishableEvents1764000000011 implements MigrationInterface {
  name = 'UnpublishableEvents1764000000011';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE unpublishable_events (
        event_seq    bigint      PRIMARY KEY REFERENCES events (seq),
        bytes        integer     NOT NULL,
        reason       text        NOT NULL,
        set_aside_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE unpublishable_events`);
  }
}
