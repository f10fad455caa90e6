import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@latchkey/config';
import { exitCleanlyOnSignals } from '@latchkey/runtime';
import { ApiModule } from './api.module';

async function bootstrap() {
  const app = await NestFactory.create(ApiModule, { abortOnError: false });
  const { api, shutdownGraceMs } = app.get(AppConfig);
  const logger = new Logger('api');
  exitCleanlyOnSignals(app, shutdownGraceMs, logger);
  await app.listen(api.port, '127.0.0.1');
  logger.log(`listening on http://127.0.0.1:${api.port} (health: /health)`);
}

bootstrap().catch((error: Error) => {
  // Configuration errors name the variable; print them without a stack trace.
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
