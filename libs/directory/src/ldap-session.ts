import { Client } from 'ldapts';

/**
 * Binds to a tenant's directory over LDAPS, checking the server against the tenant's CA, runs
 * `work`, and always unbinds. Simple binds need TLS, as in real Active Directory.
 */
export async function withDirectory<T>(
  connection: { url: string; caPem: string; bindDn: string; bindPassword: string },
  work: (client: Client) => Promise<T>,
  timeoutMs = 10_000,
): Promise<T> {
  const client = new Client({
    url: connection.url,
    timeout: timeoutMs,
    connectTimeout: timeoutMs,
    tlsOptions: { ca: [connection.caPem], minVersion: 'TLSv1.2' },
  });
  try {
    await client.bind(connection.bindDn, connection.bindPassword);
    return await work(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/**
 * Which domain controller answers: a DirSync cookie is only meaningful to the DC that issued it
 * (its invocation), so a cookie stored for another one is dropped and the next pass reads all.
 */
export async function domainControllerIdentity(client: Client): Promise<string> {
  const { searchEntries } = await client.search('', {
    scope: 'base',
    filter: '(objectClass=*)',
    attributes: ['dsServiceName', 'dnsHostName'],
  });
  const root = searchEntries[0] ?? {};
  return [root.dnsHostName, root.dsServiceName]
    .map((v) => String(Array.isArray(v) ? v[0] : (v ?? '')))
    .join('|');
}
