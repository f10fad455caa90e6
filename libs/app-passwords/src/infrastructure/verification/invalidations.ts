import { randomUUID } from 'node:crypto';
import { isTenantEventType, isUserEventType } from '../../domain';

/** The channel on which a change that verification reads is announced, in its transaction. */
export const INVALIDATION_CHANNEL = 'latchkey_verification';
/** The channel on which each replica confirms it has dropped what a change made stale. */
export const ACK_CHANNEL = 'latchkey_verification_ack';

/**
 * What one committed change made stale in the replicas' memory. `token` is what each replica
 * acknowledges; it is unique (derived from the first event's global sequence, or random).
 */
export type Invalidation =
  | {
      token: string;
      tenantId: string;
      /** The tenant's policy (or its existence) changed. */
      policy?: true;
      /** Users whose account or app passwords changed. */
      userIds?: string[];
      /** Usernames that now name a different account or lockout state, or none. */
      usernames?: string[];
      /** Nobody waits for it (it only widens, or is a lockout change): not acknowledged. */
      quiet?: true;
    }
  /** Every read model was swapped under the replicas (a rebuild): drop everything. */
  | { token: string; all: true };

/** A replica's confirmation, for any number of tokens at once. */
export interface Acknowledgement {
  instanceId: string;
  tokens: string[];
}

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; a change touching more users is split. */
const MAX_PAYLOAD_BYTES = 7_000;

interface AppendedEvent {
  seq: bigint;
  type: string;
  tenantId: string | null;
  data: unknown;
}

/**
 * The invalidations a set of appended events calls for (pure: the appender notifies them inside its
 * transaction and, after commit, waits for them by the same tokens). Events no replica reads (sign-in
 * attempts, directory or offboarding events) call for none.
 */
export function invalidationsOf(events: readonly AppendedEvent[]): Invalidation[] {
  const byTenant = new Map<
    string,
    { first: bigint; policy: boolean; userIds: Set<string>; usernames: Set<string> }
  >();
  for (const event of events) {
    const tenant = isTenantEventType(event.type);
    if (!tenant && !isUserEventType(event.type)) continue;
    // Found by the miss path (memory never answers "not found"): nothing in memory is made wrong.
    if (ONLY_ADD.has(event.type)) continue;
    const data = event.data as { tenantId?: string; userId?: string; username?: string };
    const tenantId = event.tenantId ?? data.tenantId;
    if (!tenantId) continue;
    let entry = byTenant.get(tenantId);
    if (!entry) {
      entry = { first: event.seq, policy: false, userIds: new Set(), usernames: new Set() };
      byTenant.set(tenantId, entry);
    }
    if (tenant) entry.policy = true;
    if (!tenant && data.userId) entry.userIds.add(data.userId);
    // A rename makes the new name point at an account no replica holds under it yet. The old name
    // is found by the user id (a replica holds each user under one name: TenantReplica.put).
    if (event.type === 'UserRenamed' && data.username) entry.usernames.add(data.username);
  }
  const invalidations: Invalidation[] = [];
  const quiet = narrowsSignIns(events) ? {} : { quiet: true as const };
  for (const [tenantId, entry] of byTenant) {
    const items = [
      ...[...entry.userIds].map((id) => ({ key: 'userIds' as const, value: id })),
      ...[...entry.usernames].map((name) => ({ key: 'usernames' as const, value: name })),
    ];
    let part = 0;
    let current: Extract<Invalidation, { tenantId: string }> = {
      token: `${entry.first}.${part}`,
      tenantId,
      ...(entry.policy ? { policy: true as const } : {}),
      ...quiet,
    };
    let bytes = Buffer.byteLength(JSON.stringify(current));
    for (const { key, value } of items) {
      const cost = Buffer.byteLength(JSON.stringify(value)) + 16;
      if (bytes + cost > MAX_PAYLOAD_BYTES) {
        invalidations.push(current);
        part += 1;
        current = { token: `${entry.first}.${part}`, tenantId, ...quiet };
        bytes = Buffer.byteLength(JSON.stringify(current));
      }
      (current[key] ??= []).push(value);
      bytes += cost;
    }
    invalidations.push(current);
  }
  return invalidations;
}

/**
 * Events that can only let more sign-ins through (a new app password, account or tenant, an account
 * enabled again, resumed sign-ins, a registration verification does not read). A replica that has not
 * applied one yet refuses what it would now allow, for milliseconds; it never allows what is now
 * refused. So an append of nothing but these is announced, and its command does not wait for the
 * acknowledgements: the guarantee is about what stops a sign-in (PRODUCT §7).
 */
const ONLY_WIDEN = new Set([
  'AppPasswordCreated',
  'UserProvisioned',
  'TenantCreated',
  'UserEnabled',
  'UserSignInsResumed',
  'MfaRegistrationCompleted',
]);

/**
 * Additions: what memory holds stays right (it never answers "no such password" or "no such user",
 * see TenantReplica.view), so these are not even announced. Announcing is not free: PostgreSQL
 * serialises the commits of every transaction that sends a NOTIFY.
 */
const ONLY_ADD = new Set(['AppPasswordCreated', 'UserProvisioned', 'MfaRegistrationCompleted']);

/** Must the command that appended `events` wait until every replica has applied them? */
export const narrowsSignIns = (events: readonly { type: string }[]): boolean =>
  events.some(
    (event) => (isTenantEventType(event.type) || isUserEventType(event.type)) && !ONLY_WIDEN.has(event.type),
  );

/** A lockout state changed (B8): only that name's entry is re-read. Nobody waits for it. */
export const lockoutInvalidation = (tenantId: string, username: string): Invalidation => ({
  token: randomUUID(),
  tenantId,
  usernames: [username],
  quiet: true,
});

export const allInvalidation = (): Invalidation => ({ token: randomUUID(), all: true });

/** A payload as received; anything malformed is treated as "drop everything", never ignored. */
export function parseInvalidation(payload: string): Invalidation {
  try {
    const value = JSON.parse(payload) as Partial<Invalidation> & Record<string, unknown>;
    if (typeof value.token !== 'string') throw new Error('no token');
    if ('all' in value && value.all === true) return { token: value.token, all: true };
    if (typeof value.tenantId !== 'string') throw new Error('no tenant');
    const strings = (list: unknown): string[] | undefined =>
      Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : undefined;
    return {
      token: value.token,
      tenantId: value.tenantId,
      ...(value.policy === true ? { policy: true as const } : {}),
      ...(value.quiet === true ? { quiet: true as const } : {}),
      ...(strings(value.userIds) ? { userIds: strings(value.userIds) } : {}),
      ...(strings(value.usernames) ? { usernames: strings(value.usernames) } : {}),
    };
  } catch {
    const token = /"token":"([^"]{1,64})"/.exec(payload)?.[1] ?? randomUUID();
    return { token, all: true };
  }
}
