import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@latchkey/config';
import { exitCleanlyOnSignals } from '@latchkey/runtime';
import { SyncWorkerModule } from './sync-worker.module';

async function bootstrap() {
  const app = await NestFactory.create(SyncWorkerModule, { abortOnError: false });
  const { worker, shutdownGraceMs } = app.get(AppConfig);
  const logger = new Logger('sync-worker');
  exitCleanlyOnSignals(app, shutdownGraceMs, logger);
  // The worker serves only its health endpoint over HTTP.
  await app.listen(worker.healthPort, '127.0.0.1');
  logger.log(`health on http://127.0.0.1:${worker.healthPort}/health`);
}

bootstrap().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
