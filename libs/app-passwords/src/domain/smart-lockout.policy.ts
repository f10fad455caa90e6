import { LockoutSettings } from './tenant-policy';

/**
 * B8 smart lockout for legacy sign-ins, after Entra smart lockout, kept small:
 *
 * - State is kept per username (normalised), whether or not such a user exists, so lockout answers
 *   the same for real and made-up usernames.
 * - Each client network (an IPv4 address, or an IPv6 /64) has its own counter. `threshold` distinct
 *   failed passwords lock that network for `baseLockSeconds`, doubling with each further lock up to
 *   `maxLockSeconds`. An attacker on one network locks only that network.
 * - Networks the user has signed in from successfully are *familiar* (the last 16 are kept); all others
 *   are *unfamiliar*. Each kind has a shared bucket counting failures of networks that are not locked
 *   themselves (a network's failures leave the bucket when it is locked, or when it succeeds). A bucket
 *   reaching `threshold` locks every network of its kind, growing the same way. So a distributed attack
 *   from many unfamiliar networks locks unfamiliar networks, never the user's familiar gateway, and a
 *   single network can never trip a bucket on its own.
 * - The same wrong password again (same fingerprint, one of the last 3) counts once, so a device
 *   retrying a stale app password does not lock its owner out.
 * - A locked attempt is refused before its password is checked and changes nothing. After
 *   `resetAfterSeconds` without a failure or lock, a counter starts over, growth included.
 *
 * State is plain JSON (instants as epoch milliseconds) for whatever store the application keeps it in.
 */
export interface LockCounter {
  /** Distinct failed passwords since the last lock, success or reset. */
  failures: number;
  /** Locks so far in this period: the next lock lasts base × 2^level, capped. */
  level: number;
  lockedUntilMs: number;
  lastActivityMs: number;
}

export interface ClientCounter extends LockCounter {
  network: string;
}

export interface LockoutState {
  /** Networks with a successful sign-in, most recent first. */
  familiarNetworks: string[];
  /** Fingerprints (keyed hashes, never the password) of the last failed passwords. */
  recentFailures: { fingerprint: string; atMs: number }[];
  clients: ClientCounter[];
  familiar: LockCounter;
  unfamiliar: LockCounter;
}

export type LockScope = 'network' | 'familiar-networks' | 'unfamiliar-networks';

export type LockStatus = { locked: false } | { locked: true; until: Date; scope: LockScope };

const FAMILIAR_NETWORKS_KEPT = 16;
const RECENT_FAILURES_KEPT = 3;
/** Bounds the state under a distributed attack; the unfamiliar bucket covers networks dropped here. */
const CLIENTS_KEPT = 64;

const freshCounter = (): LockCounter => ({ failures: 0, level: 0, lockedUntilMs: 0, lastActivityMs: 0 });

export const initialLockoutState = (): LockoutState => ({
  familiarNetworks: [],
  recentFailures: [],
  clients: [],
  familiar: freshCounter(),
  unfamiliar: freshCounter(),
});

const expandIpv6 = (address: string): string[] | undefined => {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.every((group) => /^[0-9a-f]{1,4}$/.test(group)) ? groups : undefined;
};

/**
 * The network a client address counts under: an IPv4 address as is (also when IPv4-mapped), an IPv6
 * address by its /64, since one subscriber is given a whole /64. Anything else counts as itself.
 */
export const clientNetwork = (clientIp: string): string => {
  const ip = clientIp.trim().toLowerCase();
  const mapped = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (mapped !== null) return mapped[1];
  const groups = ip.includes(':') ? expandIpv6(ip.replace(/%.*$/, '')) : undefined;
  if (groups === undefined) return ip;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
};

const isLockedAt = (counter: LockCounter, nowMs: number): boolean => counter.lockedUntilMs > nowMs;

const isStale = (counter: LockCounter, nowMs: number, settings: LockoutSettings): boolean =>
  !isLockedAt(counter, nowMs) &&
  nowMs - Math.max(counter.lastActivityMs, counter.lockedUntilMs) > settings.resetAfterSeconds * 1000;

const refreshed = <C extends LockCounter>(counter: C, nowMs: number, settings: LockoutSettings): C =>
  isStale(counter, nowMs, settings) ? { ...counter, ...freshCounter() } : counter;

const lockDurationMs = (level: number, settings: LockoutSettings): number =>
  Math.min(settings.maxLockSeconds, settings.baseLockSeconds * 2 ** Math.min(level, 30)) * 1000;

const lock = <C extends LockCounter>(counter: C, nowMs: number, settings: LockoutSettings): C => ({
  ...counter,
  failures: 0,
  level: counter.level + 1,
  lockedUntilMs: nowMs + lockDurationMs(counter.level, settings),
});

const isFamiliar = (state: LockoutState, network: string): boolean =>
  state.familiarNetworks.includes(network);

/** Is a sign-in for this username from this client refused by lockout at `now`? */
export const lockStatus = (state: LockoutState, clientIp: string, now: Date): LockStatus => {
  const nowMs = now.getTime();
  const network = clientNetwork(clientIp);
  const client = state.clients.find((candidate) => candidate.network === network);
  const bucket = isFamiliar(state, network) ? state.familiar : state.unfamiliar;
  const locks: { until: number; scope: LockScope }[] = [];
  if (client !== undefined && isLockedAt(client, nowMs))
    locks.push({ until: client.lockedUntilMs, scope: 'network' });
  if (isLockedAt(bucket, nowMs)) {
    locks.push({
      until: bucket.lockedUntilMs,
      scope: isFamiliar(state, network) ? 'familiar-networks' : 'unfamiliar-networks',
    });
  }
  if (locks.length === 0) return { locked: false };
  const longest = locks.reduce((a, b) => (b.until > a.until ? b : a));
  return { locked: true, until: new Date(longest.until), scope: longest.scope };
};

export interface FailedSignIn {
  clientIp: string;
  /** A keyed hash of the wrong password (or of the username and password); never the password. */
  passwordFingerprint: string;
  now: Date;
}

const keepClients = (clients: ClientCounter[], nowMs: number, settings: LockoutSettings): ClientCounter[] => {
  const current = clients.filter((client) => !isStale(client, nowMs, settings));
  if (current.length <= CLIENTS_KEPT) return current;
  // Drop the quietest unlocked networks first, then the quietest locked ones.
  const order = [...current].sort(
    (a, b) =>
      Number(isLockedAt(b, nowMs)) - Number(isLockedAt(a, nowMs)) || b.lastActivityMs - a.lastActivityMs,
  );
  const kept = new Set(order.slice(0, CLIENTS_KEPT));
  return current.filter((client) => kept.has(client));
};

/** B8: records a wrong password (or unknown username) for this username. */
export const registerFailedSignIn = (
  state: LockoutState,
  attempt: FailedSignIn,
  settings: LockoutSettings,
): LockoutState => {
  const nowMs = attempt.now.getTime();
  if (lockStatus(state, attempt.clientIp, attempt.now).locked) return state;
  const recentFailures = state.recentFailures.filter(
    (failure) => nowMs - failure.atMs <= settings.resetAfterSeconds * 1000,
  );
  if (recentFailures.some((failure) => failure.fingerprint === attempt.passwordFingerprint)) {
    return { ...state, recentFailures };
  }
  const network = clientNetwork(attempt.clientIp);
  const familiar = isFamiliar(state, network);
  const existing = state.clients.find((client) => client.network === network);
  let client: ClientCounter = refreshed(existing ?? { network, ...freshCounter() }, nowMs, settings);
  let bucket = refreshed(familiar ? state.familiar : state.unfamiliar, nowMs, settings);
  client = { ...client, failures: client.failures + 1, lastActivityMs: nowMs };
  bucket = { ...bucket, failures: bucket.failures + 1, lastActivityMs: nowMs };
  if (client.failures >= settings.threshold) {
    // The network's own lock answers for its failures: they leave the shared bucket.
    bucket = { ...bucket, failures: Math.max(0, bucket.failures - client.failures) };
    client = lock(client, nowMs, settings);
  }
  if (bucket.failures >= settings.threshold) bucket = lock(bucket, nowMs, settings);
  const others = state.clients.filter((candidate) => candidate !== existing);
  return {
    ...state,
    recentFailures: [...recentFailures, { fingerprint: attempt.passwordFingerprint, atMs: nowMs }].slice(
      -RECENT_FAILURES_KEPT,
    ),
    clients: keepClients([client, ...others], nowMs, settings),
    familiar: familiar ? bucket : state.familiar,
    unfamiliar: familiar ? state.unfamiliar : bucket,
  };
};

/**
 * B8: records a successful sign-in: the network becomes familiar and its own failures are forgiven
 * (they leave its bucket too). Only called for an allowed sign-in of an existing user.
 */
export const registerSuccessfulSignIn = (
  state: LockoutState,
  success: { clientIp: string; now: Date },
  settings: LockoutSettings,
): LockoutState => {
  const nowMs = success.now.getTime();
  const network = clientNetwork(success.clientIp);
  const familiar = isFamiliar(state, network);
  const client = state.clients.find((candidate) => candidate.network === network);
  const forgiven = client === undefined || isStale(client, nowMs, settings) ? 0 : client.failures;
  const bucket = familiar ? state.familiar : state.unfamiliar;
  const lighter = { ...bucket, failures: Math.max(0, bucket.failures - forgiven) };
  return {
    ...state,
    familiarNetworks: [network, ...state.familiarNetworks.filter((known) => known !== network)].slice(
      0,
      FAMILIAR_NETWORKS_KEPT,
    ),
    clients: state.clients.filter((candidate) => candidate !== client),
    familiar: familiar ? lighter : state.familiar,
    unfamiliar: familiar ? state.unfamiliar : lighter,
  };
};
