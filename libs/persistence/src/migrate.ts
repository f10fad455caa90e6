import { DataSource } from 'typeorm';
import type { ParsedConfig } from '@latchkey/config';
import { dataSourceOptions } from './data-source.options';

// Any constant shared by every process that migrates; two processes starting together take turns.
const MIGRATION_LOCK = 7_406_245_001;

/** Applies pending migrations under an advisory lock and returns the names of those applied. */
export async function migrate(config: Pick<ParsedConfig, 'postgres'>): Promise<string[]> {
  const dataSource = await new DataSource(dataSourceOptions(config)).initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
    await dataSource.destroy();
  }
}
