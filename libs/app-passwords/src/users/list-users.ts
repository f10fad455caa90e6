import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ProblemError } from '@latchkey/problems';
import { DataSource } from 'typeorm';
import { toUserSummary, type UserSummary, type UserSummaryRow } from './get-user';

/**
 * A page of the tenant's live users, in username order, resuming after `cursor`. `prefix` (already
 * normalised as usernames are: NFKC, lower-case) keeps only usernames that start with it.
 */
export class ListUsers {
  constructor(
    readonly tenantId: string,
    readonly limit: number,
    readonly prefix?: string,
    readonly cursor?: string,
  ) {}
}

export interface UserRow extends UserSummary {
  /** Not revoked (expired ones included): the rows the user's app-password list shows. */
  appPasswordCount: number;
}

export interface UserPage {
  items: UserRow[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next: string | null;
}

export const USER_PAGE_DEFAULT_LIMIT = 50;
export const USER_PAGE_MAX_LIMIT = 200;
const MAX_CURSOR_LENGTH = 1024;

export const invalidUserCursor = () =>
  new ProblemError(400, 'invalid-cursor', 'Invalid cursor', {
    detail: 'The cursor is not one that this query returned; start again without a cursor.',
  });

/**
 * Opaque, not secret: the last username of the page and the prefix it was issued for. The tenant
 * always comes from the token, so a forged cursor can only move within the caller's own tenant; the
 * prefix check turns a cursor replayed with another filter into a 400 instead of a skewed walk.
 */
export function encodeUserCursor(after: string, prefix: string | undefined): string {
  return Buffer.from(JSON.stringify({ v: 1, after, p: prefix ?? '' })).toString('base64url');
}

export function decodeUserCursor(cursor: string, prefix: string | undefined): string {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidUserCursor();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidUserCursor();
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidUserCursor();
  const { v, after, p, ...rest } = body as Record<string, unknown>;
  if (v !== 1 || Object.keys(rest).length > 0 || p !== (prefix ?? '')) throw invalidUserCursor();
  // Compared with a text column: NUL or a lone surrogate would fail the statement, not match nothing.
  if (typeof after !== 'string' || after.length === 0 || after.length > 320 || /[\0\p{Cs}]/u.test(after)) {
    throw invalidUserCursor();
  }
  return after;
}

/** `prefix%` with LIKE's own metacharacters taken literally (`a_b` must not match `axb`). */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, '\\$&')}%`;

@QueryHandler(ListUsers)
export class ListUsersHandler implements IQueryHandler<ListUsers, UserPage> {
  constructor(private readonly db: DataSource) {}

  /**
   * Keyset by username, which is unique among a tenant's live accounts (accounts_live_username): the
   * same index walks the page in order, and a page never repeats or skips a user that stays put.
   */
  async execute({ tenantId, limit, prefix, cursor }: ListUsers): Promise<UserPage> {
    const after = cursor === undefined ? null : decodeUserCursor(cursor, prefix);
    const rows: (UserSummaryRow & { app_passwords: number })[] = await this.db.query(
      `SELECT a.user_id, a.username, a.source, a.status, a.mfa, a.mfa_registered, a.sign_ins_suspended,
              (SELECT count(*)::int FROM credentials c
                WHERE c.user_id = a.user_id AND c.revoked_at IS NULL) AS app_passwords
       FROM accounts a
       WHERE a.tenant_id = $1 AND a.status <> 'deleted'
         AND ($2::text IS NULL OR a.username > $2)
         AND ($3::text IS NULL OR a.username LIKE $3 ESCAPE '\\')
       ORDER BY a.username
       LIMIT $4`,
      [tenantId, after, prefix === undefined ? null : likePrefix(prefix), limit + 1],
    );
    const items = rows
      .slice(0, limit)
      .map((r) => ({ ...toUserSummary(r), appPasswordCount: r.app_passwords }));
    const next = rows.length > limit ? encodeUserCursor(items[items.length - 1].username, prefix) : null;
    return { items, next };
  }
}
