import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The API instances that answer verifications from memory (libs/app-passwords, verification
 * replica), each with a lease. A command that changes what verification reads is acknowledged only
 * when every instance holding an unexpired lease has confirmed it dropped what the change made
 * stale, or its lease has run out (an instance stops answering from memory before its lease ends).
 */
export class VerificationReplicas1764000000009 implements MigrationInterface {
  name = 'VerificationReplicas1764000000009';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE verification_replicas (
        instance_id       uuid        PRIMARY KEY,
        host              text        NOT NULL,
        pid               integer     NOT NULL,
        registered_at     timestamptz NOT NULL DEFAULT now(),
        lease_expires_at  timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE verification_replicas`);
  }
}
