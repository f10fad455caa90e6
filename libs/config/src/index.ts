export { AppConfig, LatchkeyConfigModule } from './config.module';
export {
  ConfigError,
  DEV_KEY_DIR,
  DEV_PRIVATE_KEY_FILE,
  DEV_PUBLIC_KEY_FILE,
  parseConfig,
  type ParsedConfig,
} from './config.schema';
