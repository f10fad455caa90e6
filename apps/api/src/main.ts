import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@latchkey/config';
import { ApiModule } from './api.module';

async function bootstrap() {
  const app = await NestFactory.create(ApiModule, { bufferLogs: false });
  // SIGTERM: stop accepting, let in-flight requests finish, close pools and clients, exit 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const { api } = app.get(AppConfig);
  await app.listen(api.port, '127.0.0.1');
  new Logger('api').log(`listening on http://127.0.0.1:${api.port} (health: /health)`);
}

bootstrap().catch((error: Error) => {
  // Configuration errors name the variable; print them without a stack trace.
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
