import { isUuid } from '@latchkey/app-passwords';
import { EventHistoryReader } from '@latchkey/audit';
import { dataSourceOptions } from '@latchkey/persistence';
import { instantSchema } from '@latchkey/problems';
import { InvalidArgumentError } from 'commander';
import { DataSource } from 'typeorm';
import { loadConfig } from '../load-config';

/**
 * Auditors' commands read PostgreSQL directly (operators run the CLI next to the database), with
 * the same readers, tenant conditions and redaction as the API. One connection is all a
 * sequential reader needs; it is closed whatever `work` does.
 */
export async function withAuditDatabase<T>(name: string, work: (db: DataSource) => Promise<T>): Promise<T> {
  const options = dataSourceOptions(await loadConfig());
  const db = await new DataSource({
    ...options,
    applicationName: `latchkey-cli-${name}`,
    extra: { ...(options.extra as object), max: 1 },
  } as typeof options).initialize();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

export const withHistoryReader = <T>(work: (reader: EventHistoryReader) => Promise<T>): Promise<T> =>
  withAuditDatabase('audit', (db) => work(new EventHistoryReader(db)));

/** A commander argument parser for instants: the API's own check (offset required, years 1-9999). */
export function instantArgument(value: string): Date {
  const parsed = instantSchema.safeParse(value);
  if (!parsed.success)
    throw new InvalidArgumentError('expected an ISO 8601 instant with Z or an offset, years 1 to 9999');
  return parsed.data;
}

/** A commander argument parser for ids: lower-cased, as the API keeps them. */
export function uuidArgument(value: string): string {
  const id = value.toLowerCase();
  if (!isUuid(id)) throw new InvalidArgumentError('expected a UUID');
  return id;
}
