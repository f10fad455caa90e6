import { eventColumns } from '@latchkey/event-store';
import type { HistoryFilter } from './history-filter';

/** A parameterised statement: every value the caller sent travels as a parameter, never as SQL text. */
export interface Sql {
  text: string;
  values: unknown[];
}

/**
 * Only rows whose transaction precedes every transaction still in flight (the event store's high-water
 * mark, as in PostgresEventStore.readAll): a row whose transaction commits late can have a lower seq
 * than rows already visible, and a keyset walk that had passed it would never return it.
 */
const BELOW_HIGH_WATER = 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

/** The WHERE clause shared by every history statement; `$1` is the tenant, `$2` the position to start after. */
function conditions(tenantId: string, filter: HistoryFilter, after: bigint): Sql {
  const values: unknown[] = [tenantId, after.toString()];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  // tenant_id first and seq as a range: the events_tenant_seq index gives the rows in seq order.
  const where = ['tenant_id = $1', 'seq > $2', BELOW_HIGH_WATER];
  if (filter.streamId !== undefined) where.push(`stream_id = ${param(filter.streamId)}`);
  if (filter.userId !== undefined) {
    // The user's stream, and the tenant's other events that name the user (sign-in attempts,
    // offboarding, directory changes all carry data.userId).
    const id = param(filter.userId);
    where.push(`(stream_id = 'user-' || ${id}::text OR data ->> 'userId' = ${id}::text)`);
  }
  if (filter.types !== undefined) where.push(`type = ANY(${param(filter.types)}::text[])`);
  if (filter.from !== undefined) where.push(`occurred_at >= ${param(filter.from.toISOString())}`);
  if (filter.to !== undefined) where.push(`occurred_at < ${param(filter.to.toISOString())}`);
  return { text: where.join('\n  AND '), values };
}

/** The tenant's events matching `filter`, after `after`, in seq order; `upTo` caps the seq scanned. */
export function selectHistory(
  tenantId: string,
  filter: HistoryFilter,
  options: { after: bigint; limit: number; upTo?: bigint },
): Sql {
  const where = conditions(tenantId, filter, options.after);
  const values = [...where.values];
  let text = `SELECT ${eventColumns()} FROM events\nWHERE ${where.text}`;
  if (options.upTo !== undefined) {
    values.push(options.upTo.toString());
    text += `\n  AND seq <= $${values.length}`;
  }
  values.push(options.limit);
  text += `\nORDER BY seq\nLIMIT $${values.length}`;
  return { text, values };
}

/** How many of the tenant's events match `filter` (the CLI's progress bar total). */
export function countHistory(tenantId: string, filter: HistoryFilter): Sql {
  const where = conditions(tenantId, filter, 0n);
  return { text: `SELECT count(*)::bigint AS count FROM events\nWHERE ${where.text}`, values: where.values };
}

/**
 * Filters that no index serves (user, type, time) are checked row by row along events_tenant_seq, so
 * a page of a rare user could read the tenant's whole history. A page therefore reads at most
 * `budget` of the tenant's events: this statement finds the seq of the budget-th one, and the page
 * stops there, returning fewer events (or none) and a cursor that resumes after the part it read.
 */
export function scanBound(tenantId: string, after: bigint, budget: number): Sql {
  return {
    text: `SELECT seq FROM events\nWHERE tenant_id = $1\n  AND seq > $2\n  AND ${BELOW_HIGH_WATER}\nORDER BY seq\nOFFSET $3\nLIMIT 1`,
    values: [tenantId, after.toString(), budget - 1],
  };
}

/** Whether a page needs the scan budget: a stream filter is served by (stream_id, version) instead. */
export const needsScanBudget = (filter: HistoryFilter): boolean =>
  filter.streamId === undefined &&
  (filter.userId !== undefined ||
    filter.types !== undefined ||
    filter.from !== undefined ||
    filter.to !== undefined);
