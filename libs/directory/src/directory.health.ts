import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '@latchkey/config';
import { describeFailure, withTimeout } from '@latchkey/runtime';
import { withDirectory } from './ldap-session';

/** Up when the directory accepts the service account's bind over LDAPS. */
@Injectable()
export class DirectoryHealthIndicator {
  constructor(
    private readonly config: AppConfig,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'directory', timeoutMs = 3_000) {
    const indicator = this.health.check(key);
    const { url, caFile, bindDn, bindPassword } = this.config.directory;
    try {
      const caPem = readFileSync(resolve(caFile), 'utf8');
      await withTimeout(
        withDirectory({ url, caPem, bindDn, bindPassword }, async () => undefined, timeoutMs),
        timeoutMs,
      );
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: describeFailure(error) });
    }
  }
}
