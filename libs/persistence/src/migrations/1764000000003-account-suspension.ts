import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * B2: the HR fast path suspends a user's app passwords without disabling the account, which stays the
 * directory's to disable (R8). Verification reads this flag in its one lookup. Existing rows were never
 * suspended, so the default is also their history's answer: no rebuild is needed.
 */
export class AccountSuspension1764000000003 implements MigrationInterface {
  name = 'AccountSuspension1764000000003';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE accounts ADD COLUMN sign_ins_suspended boolean NOT NULL DEFAULT false`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE accounts DROP COLUMN sign_ins_suspended`);
  }
}
