import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Directories that refuse DirSync are read by polling uSNChanged. Each connection says how its
 * changes are detected (`auto`: DirSync, polling when the directory refuses it), and each stored
 * cookie says which way of reading wrote it, so that a DirSync cookie is never sent as a uSN
 * watermark or the other way round. The cookies stored so far are all DirSync cookies.
 */
export class ChangeDetection1764000000006 implements MigrationInterface {
  name = 'ChangeDetection1764000000006';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE directory_connections
        ADD COLUMN change_detection text NOT NULL DEFAULT 'auto'
          CONSTRAINT directory_connections_change_detection CHECK (change_detection IN ('auto', 'dirsync', 'usn'))`);
    await db.query(`
      ALTER TABLE directory_sync_cookies
        ADD COLUMN mode text NOT NULL DEFAULT 'dirsync'
          CONSTRAINT directory_sync_cookies_mode CHECK (mode IN ('dirsync', 'usn'))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE directory_sync_cookies DROP COLUMN mode`);
    await db.query(`ALTER TABLE directory_connections DROP COLUMN change_detection`);
  }
}
