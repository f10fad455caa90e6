import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store, after Marten's tables: streams with their current version, events with a global
 * sequence and a per-stream version (unique together, which is the optimistic-concurrency check),
 * an outbox written in the same transaction as the events, and one checkpoint row per projection.
 */
export class EventStoreSchema1764000000000 implements MigrationInterface {
  name = 'EventStoreSchema1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE streams (
        id          text        PRIMARY KEY,
        type        text        NOT NULL,
        tenant_id   uuid,
        version     integer     NOT NULL CHECK (version >= 0),
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE events (
        seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id              uuid        NOT NULL UNIQUE,
        stream_id       text        NOT NULL REFERENCES streams (id),
        version         integer     NOT NULL CHECK (version >= 1),
        type            text        NOT NULL,
        schema_version  integer     NOT NULL DEFAULT 1,
        tenant_id       uuid,
        actor           jsonb       NOT NULL,
        causation_id    uuid,
        correlation_id  uuid,
        data            jsonb       NOT NULL,
        occurred_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        -- The appending transaction's id. A reader that tails by seq reads only rows whose
        -- transaction precedes every transaction still running (pg_snapshot_xmin), so a row whose
        -- transaction commits late, with a lower seq than rows already visible, is never skipped.
        transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT events_stream_version UNIQUE (stream_id, version)
      )`);
    await db.query(`CREATE INDEX events_tenant_seq ON events (tenant_id, seq)`);
    await db.query(`CREATE INDEX events_type_seq ON events (type, seq)`);
    await db.query(`
      CREATE TABLE outbox (
        seq           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_seq     bigint      NOT NULL UNIQUE REFERENCES events (seq),
        published_at  timestamptz
      )`);
    await db.query(`CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
    await db.query(`
      CREATE TABLE projection_checkpoints (
        name        text        PRIMARY KEY,
        position    bigint      NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE projection_checkpoints`);
    await db.query(`DROP TABLE outbox`);
    await db.query(`DROP TABLE events`);
    await db.query(`DROP TABLE streams`);
  }
}
