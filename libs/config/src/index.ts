export { AppConfig, LatchkeyConfigModule } from './config.module';
export { ConfigError, parseConfig, type ParsedConfig } from './config.schema';
