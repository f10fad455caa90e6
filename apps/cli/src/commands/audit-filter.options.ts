import { Command, Option } from 'commander';
import { z } from 'zod';
import { historyFilterSchema, toHistoryFilter, type HistoryFilter } from '@latchkey/audit';

/** The filters every `audit` subcommand takes, validated exactly as the API validates its query. */
export function withFilterOptions(command: Command): Command {
  return command
    .requiredOption('--tenant <uuid>', 'the tenant whose history to read')
    .option('--user <uuid>', "the user's stream and the tenant's events that name the user (data.userId)")
    .option('--stream <id>', 'one stream, e.g. user-<uuid>')
    .addOption(
      new Option('--type <type>', 'event type; repeat or separate with commas (any matches)').argParser(
        (value: string, previous: string[] = []) => [...previous, value],
      ),
    )
    .option('--from <instant>', 'occurredAt ≥ this ISO 8601 instant (with offset)')
    .option('--to <instant>', 'occurredAt < this ISO 8601 instant (with offset)');
}

export interface FilterOptions {
  tenant: string;
  user?: string;
  stream?: string;
  type?: string[];
  from?: string;
  to?: string;
}

export function filterOf(options: FilterOptions): { tenantId: string; filter: HistoryFilter } {
  const tenant = z.uuid().safeParse(options.tenant);
  if (!tenant.success) throw new Error('--tenant: expected a UUID');
  const parsed = historyFilterSchema.safeParse({
    userId: options.user,
    streamId: options.stream,
    type: options.type,
    from: options.from,
    to: options.to,
  });
  if (!parsed.success) {
    const names: Record<string, string> = { userId: 'user', streamId: 'stream' };
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '');
      return `--${names[name] ?? name}: ${issue.message}`;
    });
    throw new Error(problems.join('; '));
  }
  return { tenantId: tenant.data.toLowerCase(), filter: toHistoryFilter(parsed.data) };
}
