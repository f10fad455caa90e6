import { ValidationError } from '../../../app-passwords/src/domain';

/** One legacy sign-in attempt of the offboarded user, from the sign-in log (R9). */
export interface SignInRecord {
  at: Date;
  allowed: boolean;
  /** The app password the presented secret matched, or null when it matched none. */
  appPasswordId: string | null;
  clientIp: string;
  protocol: string;
  /** The refusal code (sign-in.policy's SIGN_IN_REFUSALS) when refused. */
  refusal?: string;
}

/**
 * An offboarding as the history tells it. The window opens when the account was disabled or deleted on
 * premises and closes when its app passwords stopped working: the directory change applied in the
 * cloud, or B2's fast-path suspension, whichever came first.
 */
export interface OffboardingTimeline {
  /** When the sync saw the change. */
  detectedAt: Date;
  /** AD's whenChanged, when known: closer to the real instant than detection. */
  whenChanged?: Date;
  appliedAt?: Date;
  suspendedAt?: Date;
}

export interface ExposureWindow {
  from: Date;
  until: Date;
  /** Nothing has stopped the app passwords yet: `until` is now. */
  open: boolean;
  stoppedBy: 'directory-sync' | 'fast-path' | null;
  windowMs: number;
}

export interface Exposure extends ExposureWindow {
  /** Successful app-password sign-ins inside the window, in order: what B1 exists to show. */
  signIns: SignInRecord[];
}

const requireInstant = (field: string, value: unknown): number => {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError('exposure.invalid-instant', 'B1', `${field} must be a valid instant.`);
  }
  return value.getTime();
};

/**
 * B1: the window opens at AD's whenChanged, or at detection when whenChanged is unknown or later
 * (the DC's clock ran ahead: a change cannot be seen before it happened), and closes at the first
 * of applied and suspended, or stays open until `now`.
 */
export const exposureWindow = (timeline: OffboardingTimeline, now: Date): ExposureWindow => {
  const detectedAt = requireInstant('detectedAt', timeline.detectedAt);
  const from =
    timeline.whenChanged === undefined
      ? detectedAt
      : Math.min(detectedAt, requireInstant('whenChanged', timeline.whenChanged));
  const applied =
    timeline.appliedAt === undefined ? Infinity : requireInstant('appliedAt', timeline.appliedAt);
  const suspended =
    timeline.suspendedAt === undefined ? Infinity : requireInstant('suspendedAt', timeline.suspendedAt);
  const stop = Math.min(applied, suspended);
  const open = stop === Infinity;
  const until = Math.max(from, open ? requireInstant('now', now) : stop);
  return {
    from: new Date(from),
    until: new Date(until),
    open,
    stoppedBy: open ? null : suspended < applied ? 'fast-path' : 'directory-sync',
    windowMs: until - from,
  };
};

/** Inside `[from, until)`: at the closing instant the app passwords already failed. */
export const isInside = (window: Pick<ExposureWindow, 'from' | 'until'>, at: Date): boolean =>
  at.getTime() >= window.from.getTime() && at.getTime() < window.until.getTime();

export const validateSignIn = (signIn: SignInRecord): SignInRecord => {
  requireInstant('signIn.at', signIn?.at);
  if (typeof signIn.allowed !== 'boolean') {
    throw new ValidationError('exposure.invalid-sign-in', 'B1', 'signIn.allowed must be true or false.');
  }
  return signIn;
};

const byInstant = (a: SignInRecord, b: SignInRecord): number => a.at.getTime() - b.at.getTime();

/** B1: the exposure window of one offboarding and every app-password sign-in that succeeded inside it. */
export const exposure = (
  timeline: OffboardingTimeline,
  signIns: readonly SignInRecord[],
  now: Date,
): Exposure => {
  const window = exposureWindow(timeline, now);
  return {
    ...window,
    signIns: signIns
      .map(validateSignIn)
      .filter((signIn) => signIn.allowed && signIn.appPasswordId !== null && isInside(window, signIn.at))
      .sort(byInstant),
  };
};
