import type { DataSourceOptions } from 'typeorm';
import type { ParsedConfig } from '@latchkey/config';
import { EventStoreSchema1764000000000 } from './migrations/1764000000000-event-store-schema';
import { CredentialReadModels1764000000001 } from './migrations/1764000000001-credential-read-models';
import { KafkaFedReadModels1764000000002 } from './migrations/1764000000002-kafka-fed-read-models';
import { AccountSuspension1764000000003 } from './migrations/1764000000003-account-suspension';
import { DirectoryConnections1764000000004 } from './migrations/1764000000004-directory-connections';
import { Offboarding1764000000005 } from './migrations/1764000000005-offboarding';
import { ChangeDetection1764000000006 } from './migrations/1764000000006-change-detection';
import { OutboxHoldsOnlyUnpublished1764000000007 } from './migrations/1764000000007-outbox-holds-only-unpublished';
import { EventChain1764000000008 } from './migrations/1764000000008-event-chain';
import { VerificationReplicas1764000000009 } from './migrations/1764000000009-verification-replicas';
import { ProjectionDeadLetters1764000000010 } from './migrations/1764000000010-projection-dead-letters';
import { UnpublishableEvents1764000000011 } from './migrations/1764000000011-unpublishable-events';

/** Every migration, in order. Listed explicitly so that a bundled build cannot miss one. */
export const migrations = [
  EventStoreSchema1764000000000,
  CredentialReadModels1764000000001,
  KafkaFedReadModels1764000000002,
  AccountSuspension1764000000003,
  DirectoryConnections1764000000004,
  Offboarding1764000000005,
  ChangeDetection1764000000006,
  OutboxHoldsOnlyUnpublished1764000000007,
  EventChain1764000000008,
  VerificationReplicas1764000000009,
  ProjectionDeadLetters1764000000010,
  UnpublishableEvents1764000000011,
];

/** Schema changes go through migrations only; `synchronize` stays off everywhere. */
export function dataSourceOptions(config: Pick<ParsedConfig, 'postgres'>): DataSourceOptions {
  const { host, port, user, password, database } = config.postgres;
  return {
    type: 'postgres',
    host,
    port,
    username: user,
    password,
    database,
    applicationName: 'latchkey',
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    migrations,
    entities: [],
    extra: { max: 10, connectionTimeoutMillis: 5_000 },
  };
}
