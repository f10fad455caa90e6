import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '@latchkey/config';
import { describeFailure, withTimeout } from '@latchkey/runtime';
import { createDirectoryClient } from './directory.client';

/** Up when the directory accepts the service account's bind over LDAPS. */
@Injectable()
export class DirectoryHealthIndicator {
  constructor(
    private readonly config: AppConfig,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'directory', timeoutMs = 3_000) {
    const indicator = this.health.check(key);
    const { directory } = this.config;
    let client: ReturnType<typeof createDirectoryClient> | undefined;
    try {
      client = createDirectoryClient(directory, timeoutMs);
      await withTimeout(client.bind(directory.bindDn, directory.bindPassword), timeoutMs);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: describeFailure(error) });
    } finally {
      await client?.unbind().catch(() => undefined);
    }
  }
}
