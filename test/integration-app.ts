import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LatchkeyConfigModule } from '@latchkey/config';
import { migrate, PersistenceModule } from '@latchkey/persistence';
import { integrationConfig } from './integration-config';

type ModuleClass = NonNullable<Parameters<typeof Test.createTestingModule>[0]['imports']>[number];

/**
 * An initialised Nest application of `modules` on the integration database (migrated first), with the
 * configuration and persistence modules every application module needs. Close it in afterAll.
 */
export async function startIntegrationApp(...modules: ModuleClass[]): Promise<INestApplication> {
  await migrate(integrationConfig());
  const moduleRef = await Test.createTestingModule({
    imports: [LatchkeyConfigModule.forRoot(), PersistenceModule, ...modules],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}
