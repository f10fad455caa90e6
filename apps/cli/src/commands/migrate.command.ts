import { Command } from 'commander';
import { migrate } from '@latchkey/persistence';
import { loadConfig } from '../load-config';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations (safe to run from several processes at once)')
    .action(async () => {
      const applied = await migrate(await loadConfig());
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
    });
}
