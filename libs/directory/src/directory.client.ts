import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'ldapts';
import type { ParsedConfig } from '@latchkey/config';

export type DirectoryConnection = ParsedConfig['directory'];

/**
 * An LDAPS client for a directory. Simple binds need TLS, as in real Active Directory, so only
 * ldaps:// URLs are accepted (the configuration refuses others) and the server is checked against
 * the directory's own CA.
 */
export function createDirectoryClient(
  connection: Pick<DirectoryConnection, 'url' | 'caFile'>,
  timeoutMs = 5_000,
) {
  return new Client({
    url: connection.url,
    timeout: timeoutMs,
    connectTimeout: timeoutMs,
    tlsOptions: { ca: [readFileSync(resolve(connection.caFile))], minVersion: 'TLSv1.2' },
  });
}
