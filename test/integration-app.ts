import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Clock } from '@latchkey/app-passwords';
import { LatchkeyConfigModule } from '@latchkey/config';
import { migrate, PersistenceModule } from '@latchkey/persistence';
import { configureHttp, httpAppOptions } from '@latchkey/problems';
import { integrationConfig } from './integration-config';

type ModuleClass = NonNullable<Parameters<typeof Test.createTestingModule>[0]['imports']>[number];

/**
 * An initialised Nest application of `modules` on the integration database (migrated first), with the
 * configuration and persistence modules every application module needs. Close it in afterAll.
 */
export function startIntegrationApp(...modules: ModuleClass[]): Promise<INestApplication> {
  return startIntegrationAppAt(undefined, ...modules);
}

/** The same, with the application's Clock replaced by `clock` (when given). */
export async function startIntegrationAppAt(
  clock: Clock | undefined,
  ...modules: ModuleClass[]
): Promise<INestApplication> {
  await migrate(integrationConfig());
  const builder = Test.createTestingModule({
    imports: [LatchkeyConfigModule.forRoot(), PersistenceModule, ...modules],
  });
  const moduleRef = await (clock ? builder.overrideProvider(Clock).useValue(clock) : builder).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

/**
 * `modules` served over HTTP on a free loopback port, with the API's own HTTP edge (problem+json
 * errors, body limits): `base` is its origin. Close the app in afterAll.
 */
export async function listenIntegrationApp(
  ...modules: ModuleClass[]
): Promise<{ app: NestExpressApplication; base: string }> {
  await migrate(integrationConfig());
  const moduleRef = await Test.createTestingModule({
    imports: [LatchkeyConfigModule.forRoot(), PersistenceModule, ...modules],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    ...httpAppOptions,
    logger: ['error'],
  });
  configureHttp(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl() };
}
