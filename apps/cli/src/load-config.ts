import { NestFactory } from '@nestjs/core';
import { AppConfig, LatchkeyConfigModule } from '@latchkey/config';

/** Reads and validates configuration exactly as the services do (environment, then .env). */
export async function loadConfig(): Promise<AppConfig> {
  const context = await NestFactory.createApplicationContext(LatchkeyConfigModule.forRoot(), {
    logger: false,
    abortOnError: false, // let a ConfigError reach main.ts's handler instead of a silent exit
  });
  const config = context.get(AppConfig);
  await context.close();
  return config;
}
