import 'reflect-metadata';
import { Command } from 'commander';
import { describeFailure } from '@latchkey/runtime';
import { auditCommand } from './commands/audit.command';
import { demoCommand } from './commands/demo.command';
import { hrRequestCommand } from './commands/hr-request.command';
import { migrateCommand } from './commands/migrate.command';
import { replayCommand } from './commands/replay.command';
import { tokenCommand } from './commands/token.command';

// One file per command under commands/; add yours to this list.
const commands = [migrateCommand, tokenCommand, demoCommand, hrRequestCommand, auditCommand, replayCommand];

const program = new Command('latchkey').description("Latchkey's command line for operators and auditors");
for (const command of commands) program.addCommand(command());

program.parseAsync().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : `error: ${describeFailure(error)}`);
  process.exit(1);
});
