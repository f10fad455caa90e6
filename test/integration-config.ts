import { parseConfig, type ParsedConfig } from '@latchkey/config';

/** The configuration integration tests run with: the same validation as the services. */
export function integrationConfig(): ParsedConfig {
  return parseConfig(process.env);
}
