export { dataSourceOptions, migrations } from './data-source.options';
export { migrate } from './migrate';
export { PersistenceModule } from './persistence.module';
export { PostgresHealthIndicator } from './postgres.health';
export { AdvisoryLock } from './advisory-lock';
export { queryPrepared } from './prepared-query';
