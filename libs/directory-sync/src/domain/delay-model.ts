import { ValidationError } from '../../../app-passwords/src/domain';
import { drawFor, uniformInteger } from './seeded-random';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** R8: "up to three hours". */
export const DEFAULT_MAX_DELAY_MS = 3 * HOUR_MS;
/** Entra Connect's default delta-sync cycle. */
export const DEFAULT_CYCLE_INTERVAL_MS = 30 * MINUTE_MS;
/** What one delta cycle takes to import, synchronise and export. */
export const DEFAULT_CYCLE_PROCESSING_MS = 2 * MINUTE_MS;
/** Cycles fall on whole half hours (UTC) unless an anchor says otherwise. */
export const DEFAULT_CYCLE_ANCHOR = '1970-01-01T00:00:00.000Z';
/** No duration of a model may exceed a week: anything longer is a typo, not a model. */
export const MAX_DURATION_MS = 7 * 24 * HOUR_MS;

export const DELAY_MODEL_KINDS = ['cycle', 'fixed', 'uniform', 'worst-case'] as const;
export type DelayModelKind = (typeof DELAY_MODEL_KINDS)[number];

/**
 * R8: how long a change made on premises takes to reach the cloud. Stored complete in events (defaults
 * filled in), so changing a default in code never changes what a past schedule meant.
 */
export type DelayModel =
  /** A delta cycle every `intervalMs` from `anchor`; a change lands at the first cycle after it is seen, plus `processingMs`. */
  | { kind: 'cycle'; intervalMs: number; anchor: string; processingMs: number; maxDelayMs: number }
  | { kind: 'fixed'; delayMs: number; maxDelayMs: number }
  /** A delay drawn uniformly from [minMs, maxMs], reproducibly from `seed` (see seeded-random.ts). */
  | { kind: 'uniform'; minMs: number; maxMs: number; seed: number; maxDelayMs: number }
  | { kind: 'worst-case'; maxDelayMs: number };

/** What an admin or configuration gives: `kind` and the fields without defaults. */
export type DelayModelSettings =
  | { kind: 'cycle'; intervalMs?: number; anchor?: string; processingMs?: number; maxDelayMs?: number }
  | { kind: 'fixed'; delayMs: number; maxDelayMs?: number }
  | { kind: 'uniform'; minMs: number; maxMs: number; seed: number; maxDelayMs?: number }
  | { kind: 'worst-case'; maxDelayMs?: number };

const FIELDS: Record<DelayModelKind, readonly string[]> = {
  cycle: ['kind', 'intervalMs', 'anchor', 'processingMs', 'maxDelayMs'],
  fixed: ['kind', 'delayMs', 'maxDelayMs'],
  uniform: ['kind', 'minMs', 'maxMs', 'seed', 'maxDelayMs'],
  'worst-case': ['kind', 'maxDelayMs'],
};

const invalid = (message: string): ValidationError =>
  new ValidationError('delay-model.invalid', 'R8', message);

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/**
 * Validates settings into a complete model. Every refusal names the field: durations are whole
 * milliseconds within [0, a week] (intervalMs and maxDelayMs at least 1), minMs ≤ maxMs, and no single
 * duration above the cap (the cap would silently make it meaningless).
 */
export const delayModel = (settings: unknown): DelayModel => {
  if (typeof settings !== 'object' || settings === null) throw invalid('delayModel must be an object.');
  const input = settings as Record<string, unknown>;
  const kind = input.kind as DelayModelKind;
  if (!DELAY_MODEL_KINDS.includes(kind)) {
    throw invalid(`delayModel.kind must be one of: ${DELAY_MODEL_KINDS.join(', ')}.`);
  }
  const unknown = Object.keys(input).find((key) => !FIELDS[kind].includes(key));
  if (unknown !== undefined) throw invalid(`delayModel.${unknown} is not a field of the ${kind} model.`);

  const duration = (field: string, fallback: number | undefined, min = 0): number => {
    const value = input[field] ?? fallback;
    if (value === undefined) throw invalid(`delayModel.${field} is required for the ${kind} model.`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > MAX_DURATION_MS) {
      throw invalid(`delayModel.${field} must be whole milliseconds from ${min} to ${MAX_DURATION_MS}.`);
    }
    return value;
  };
  const notAboveCap = (field: string, value: number, maxDelayMs: number): void => {
    if (value > maxDelayMs) throw invalid(`delayModel.${field} must not exceed delayModel.maxDelayMs.`);
  };
  const maxDelayMs = duration('maxDelayMs', DEFAULT_MAX_DELAY_MS, 1);

  switch (kind) {
    case 'cycle': {
      const intervalMs = duration('intervalMs', DEFAULT_CYCLE_INTERVAL_MS, 1);
      const processingMs = duration('processingMs', Math.min(DEFAULT_CYCLE_PROCESSING_MS, maxDelayMs));
      notAboveCap('intervalMs', intervalMs, maxDelayMs);
      notAboveCap('processingMs', processingMs, maxDelayMs);
      const anchor = input.anchor ?? DEFAULT_CYCLE_ANCHOR;
      if (typeof anchor !== 'string' || !ISO_INSTANT.test(anchor) || Number.isNaN(Date.parse(anchor))) {
        throw invalid('delayModel.anchor must be an ISO-8601 instant in UTC.');
      }
      return { kind, intervalMs, anchor: new Date(anchor).toISOString(), processingMs, maxDelayMs };
    }
    case 'fixed': {
      const delayMs = duration('delayMs', undefined);
      notAboveCap('delayMs', delayMs, maxDelayMs);
      return { kind, delayMs, maxDelayMs };
    }
    case 'uniform': {
      const minMs = duration('minMs', undefined);
      const maxMs = duration('maxMs', undefined);
      if (minMs > maxMs) throw invalid('delayModel.minMs must not exceed delayModel.maxMs.');
      notAboveCap('maxMs', maxMs, maxDelayMs);
      const seed = input.seed;
      if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        throw invalid('delayModel.seed must be a whole number from 0 to 4294967295.');
      }
      return { kind, minMs, maxMs, seed, maxDelayMs };
    }
    case 'worst-case':
      return { kind, maxDelayMs };
  }
};

/**
 * `on-demand`: B10's sync now, which in the `cycle` model is Entra Connect's manual delta cycle: the
 * change lands after one cycle's processing instead of waiting for the next scheduled cycle. The other
 * models describe a delay, not a schedule, and ignore it.
 */
export type SyncTrigger = 'scheduled' | 'on-demand';

export interface DelayContext {
  /** Keys the `uniform` draw, so two changes seen at one instant get their own delays. */
  objectGuid: string;
  trigger?: SyncTrigger;
}

/** The instant the first cycle after `detectedAt` (strictly: a cycle starting then has already read the directory) ends. */
const cycleLanding = (
  model: Extract<DelayModel, { kind: 'cycle' }>,
  detectedAt: number,
  trigger: SyncTrigger,
) => {
  if (trigger === 'on-demand') return detectedAt + model.processingMs;
  const anchor = Date.parse(model.anchor);
  const nextCycle = anchor + (Math.floor((detectedAt - anchor) / model.intervalMs) + 1) * model.intervalMs;
  return nextCycle + model.processingMs;
};

/**
 * R8: when a change seen on premises at `detectedAt` reaches the cloud under `model`. Never later than
 * `detectedAt + maxDelayMs`. Pure: the same model, change and context always give the same instant.
 */
export const dueAt = (model: DelayModel, change: { detectedAt: Date }, context: DelayContext): Date => {
  const detectedAt = change.detectedAt.getTime();
  if (Number.isNaN(detectedAt)) throw invalid('detectedAt must be a valid instant.');
  let landing: number;
  switch (model.kind) {
    case 'cycle':
      landing = cycleLanding(model, detectedAt, context.trigger ?? 'scheduled');
      break;
    case 'fixed':
      landing = detectedAt + model.delayMs;
      break;
    case 'uniform': {
      const draw = drawFor(`${model.seed}:${context.objectGuid}:${change.detectedAt.toISOString()}`);
      landing = detectedAt + uniformInteger(draw, model.minMs, model.maxMs);
      break;
    }
    case 'worst-case':
      landing = detectedAt + model.maxDelayMs;
      break;
  }
  return new Date(Math.min(landing, detectedAt + model.maxDelayMs));
};
