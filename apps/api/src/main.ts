import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig } from '@latchkey/config';
import { configureHttp, httpAppOptions } from '@latchkey/problems';
import { exitCleanlyOnSignals } from '@latchkey/runtime';
import { ApiModule } from './api.module';
import { HttpMetrics } from './metrics/http-metrics';
import { API_PATH, noStore } from './no-store';
import { setupOpenApi } from './openapi';

async function bootstrap() {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, {
    ...httpAppOptions,
    abortOnError: false,
  });
  const { api, shutdownGraceMs } = app.get(AppConfig);
  // Behind a load balancer the socket's peer is the balancer: the leak report's rate limit and its
  // record of who reported would otherwise lump every reporter together.
  app.set('trust proxy', api.trustProxy);
  const logger = new Logger('api');
  exitCleanlyOnSignals(app, shutdownGraceMs, logger);
  app.use(app.get(HttpMetrics).middleware); // first, so that refusals by the body parser are timed too
  app.use(API_PATH, noStore);
  configureHttp(app);
  setupOpenApi(app);
  await app.listen(api.port, '127.0.0.1');
  logger.log(`listening on http://127.0.0.1:${api.port} (health: /health, docs: /docs, metrics: /metrics)`);
}

bootstrap().catch((error: Error) => {
  // Configuration errors name the variable; print them without a stack trace.
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
