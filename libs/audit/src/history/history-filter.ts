import { instantSchema } from '@latchkey/problems';
import { z } from 'zod';

/** What an auditor may narrow the history to. The tenant is not here: it always comes from the caller. */
export interface HistoryFilter {
  /** The user's own stream and every event of the tenant whose `data.userId` names the user. */
  userId?: string;
  streamId?: string;
  /** One or several event types (any of them). */
  types?: string[];
  /** `occurred_at >= from` (inclusive). */
  from?: Date;
  /** `occurred_at < to` (exclusive), so consecutive ranges never count an event twice. */
  to?: Date;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1_000;
const MAX_TYPES = 20;
// Event types are PascalCase identifiers today; a looser pattern would only let odd bytes into logs.
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
// Stream ids are `<kind>-<id>[-<lane>]`: printable ASCII without spaces is all they ever use.
const STREAM_ID = /^[\x21-\x7e]{1,200}$/;

const instant = instantSchema;

// `type=A&type=B` (repeated) and `type=A,B` (one list) both mean "A or B".
const types = z
  .union([z.string(), z.array(z.string()).max(MAX_TYPES)])
  .transform((value) => [
    ...new Set((Array.isArray(value) ? value : [value]).flatMap((item) => item.split(','))),
  ])
  .pipe(
    z
      .array(z.string().regex(EVENT_TYPE, 'must be an event type name'))
      .min(1)
      .max(MAX_TYPES)
      .transform((list) => list.sort()),
  );

/** The filters as query parameters (API) or options (CLI): strings in, a HistoryFilter out. */
export const historyFilterShape = {
  userId: z
    .uuid()
    .transform((id) => id.toLowerCase())
    .optional(),
  streamId: z.string().regex(STREAM_ID, 'must be a stream id (1 to 200 visible ASCII characters)').optional(),
  type: types.optional(),
  from: instant.optional(),
  to: instant.optional(),
};

const orderedRange = (value: { from?: Date; to?: Date }, ctx: z.RefinementCtx) => {
  if (value.from && value.to && value.from.getTime() >= value.to.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
  }
};

export const historyFilterSchema = z.strictObject(historyFilterShape).superRefine(orderedRange);

const limit = z
  .string()
  .regex(/^\d{1,4}$/, `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`)
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_PAGE_LIMIT));

/** `GET /v1/audit/events`: the filters plus a page. */
export const historyPageSchema = z
  .strictObject({
    ...historyFilterShape,
    limit: limit.optional(),
    cursor: z.string().min(1).max(256).optional(),
  })
  .superRefine(orderedRange);

export type HistoryFilterInput = z.input<typeof historyFilterSchema>;
export type HistoryPageQuery = z.output<typeof historyPageSchema>;

/** The parsed parameters as a HistoryFilter (drops what is unset). */
export function toHistoryFilter(
  query: z.output<typeof historyFilterSchema> | HistoryPageQuery,
): HistoryFilter {
  const filter: HistoryFilter = {};
  if (query.userId !== undefined) filter.userId = query.userId;
  if (query.streamId !== undefined) filter.streamId = query.streamId;
  if (query.type !== undefined) filter.types = query.type;
  if (query.from !== undefined) filter.from = query.from;
  if (query.to !== undefined) filter.to = query.to;
  return filter;
}
