import { EventHistoryReader } from '@latchkey/audit';
import { dataSourceOptions } from '@latchkey/persistence';
import { DataSource } from 'typeorm';
import { loadConfig } from '../load-config';

/**
 * The history straight from PostgreSQL (operators run the CLI next to the database), with the same
 * reader, tenant condition and redaction as the API. One connection is all a sequential reader needs.
 */
export async function withHistoryReader<T>(work: (reader: EventHistoryReader) => Promise<T>): Promise<T> {
  const options = dataSourceOptions(await loadConfig());
  const db = await new DataSource({
    ...options,
    applicationName: 'latchkey-cli-audit',
    extra: { ...(options.extra as object), max: 1 },
  } as typeof options).initialize();
  try {
    return await work(new EventHistoryReader(db));
  } finally {
    await db.destroy();
  }
}
