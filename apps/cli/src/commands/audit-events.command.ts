import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type AuditEvent } from '@latchkey/audit';
import { withHistoryReader } from './audit-database';
import { filterOf, withFilterOptions, type FilterOptions } from './audit-filter.options';

interface EventsOptions extends FilterOptions {
  limit: number;
  cursor?: string;
  format: 'ndjson' | 'table';
}

/** `audit events`: one page of a tenant's history, as NDJSON or a table; the next cursor on stderr. */
export function auditEventsCommand(): Command {
  return withFilterOptions(new Command('events'))
    .description("print one page of a tenant's events (keyset pages: pass --cursor to continue)")
    .option('--limit <n>', `1 to ${MAX_PAGE_LIMIT}`, parseLimit, DEFAULT_PAGE_LIMIT)
    .option('--cursor <cursor>', 'the cursor printed after the previous page')
    .addOption(new Option('--format <format>', 'output').choices(['ndjson', 'table']).default('ndjson'))
    .action(async (options: EventsOptions) => {
      const { tenantId, filter } = filterOf(options);
      const page = await withHistoryReader((reader) =>
        reader.page(tenantId, filter, { limit: options.limit, cursor: options.cursor }),
      );
      process.stdout.write(
        options.format === 'table'
          ? table(page.events)
          : page.events.map((event) => JSON.stringify(event) + '\n').join(''),
      );
      console.error(page.next ? `next: --cursor ${page.next}` : 'no more events');
    });
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_PAGE_LIMIT)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  return limit;
}

function table(events: readonly AuditEvent[]): string {
  const rows = [
    ['SEQ', 'OCCURRED AT', 'TYPE', 'STREAM', 'VERSION', 'ACTOR'],
    ...events.map((e) => [
      e.seq,
      e.occurredAt,
      e.type,
      e.streamId,
      String(e.version),
      e.actor.id ? `${e.actor.kind}:${e.actor.id}` : e.actor.kind,
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map(
      (row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
}
