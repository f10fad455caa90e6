import { delayModel, type DelayModel } from '@latchkey/directory-sync';
import { instantSchema } from '@latchkey/problems';
import { z } from 'zod';

/** A quarter: enough to compare a model over a season of offboardings, small enough to read at once. */
export const MAX_PERIOD_DAYS = 92;
const MAX_PERIOD_MS = MAX_PERIOD_DAYS * 86_400_000;

const instant = instantSchema;

/**
 * The model exactly as a directory connection takes it (an object, then the domain's `delayModel`,
 * which fills defaults and names the faulty field), so a model an auditor tries is one an admin
 * could configure, and the other way round.
 */
const model = z.record(z.string(), z.unknown()).transform((settings, ctx): DelayModel => {
  try {
    return delayModel(settings);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** B5: the period `[from, to)` of detections to re-run and the delay model to re-run it under. */
/** The period's checks run even when an instant failed (zod reports every issue): they then pass. */
const period = (body: { from: unknown; to: unknown }, ok: (from: number, to: number) => boolean) =>
  !(body.from instanceof Date && body.to instanceof Date) || ok(body.from.getTime(), body.to.getTime());

export const counterfactualRequest = z
  .strictObject({ from: instant, to: instant, model })
  .refine((body) => period(body, (from, to) => from < to), {
    message: 'from must be before to',
    path: ['to'],
  })
  .refine((body) => period(body, (from, to) => to - from <= MAX_PERIOD_MS), {
    message: `the period must not exceed ${MAX_PERIOD_DAYS} days`,
    path: ['to'],
  });

export type CounterfactualRequest = z.output<typeof counterfactualRequest>;
