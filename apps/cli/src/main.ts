import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppConfig, LatchkeyConfigModule } from '@latchkey/config';
import { migrate } from '@latchkey/persistence';
import { describeFailure } from '@latchkey/runtime';
import { Command } from 'commander';

/** Reads and validates configuration exactly as the services do (environment, then .env). */
async function loadConfig(): Promise<AppConfig> {
  const context = await NestFactory.createApplicationContext(LatchkeyConfigModule.forRoot(), {
    logger: false,
  });
  const config = context.get(AppConfig);
  await context.close();
  return config;
}

const program = new Command('latchkey').description("Latchkey's command line for operators and auditors");

program
  .command('migrate')
  .description('apply pending database migrations (safe to run from several processes at once)')
  .action(async () => {
    const applied = await migrate(await loadConfig());
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  });

program.parseAsync().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : `error: ${describeFailure(error)}`);
  process.exit(1);
});
