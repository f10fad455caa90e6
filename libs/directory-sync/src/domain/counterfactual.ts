import { DelayModel, dueAt, SyncTrigger } from './delay-model';
import {
  Exposure,
  exposure,
  exposureWindow,
  isInside,
  OffboardingTimeline,
  SignInRecord,
  validateSignIn,
} from './exposure';

/** One detected offboarding change as it happened, with its user's sign-in attempts. */
export interface ObservedChange extends OffboardingTimeline {
  changeId: string;
  objectGuid: string;
  trigger?: SyncTrigger;
  signIns: SignInRecord[];
}

export interface ExposureFigures {
  until: Date;
  windowMs: number;
  signIns: number;
}

export interface CounterfactualChange {
  changeId: string;
  actual: ExposureFigures;
  counterfactual: ExposureFigures;
  /** Positive: the other model would have exposed the account longer. */
  windowDeltaMs: number;
  signInDelta: number;
}

export interface CounterfactualReport {
  model: DelayModel;
  changes: CounterfactualChange[];
  total: {
    actualWindowMs: number;
    counterfactualWindowMs: number;
    windowDeltaMs: number;
    actualSignIns: number;
    counterfactualSignIns: number;
    signInDelta: number;
  };
}

/**
 * Refusals an offboarding causes: a disabled account (R15), or a deleted one, whose app passwords are
 * revoked so the secret no longer verifies. A refused attempt after the real stop that matched an app
 * password and was refused for one of these (or for an unrecorded reason) would have succeeded had the
 * window still been open; any other refusal would have happened anyway.
 */
const STOPPED_BY_OFFBOARDING: ReadonlySet<string> = new Set(['account-disabled', 'invalid-credentials']);

const wouldHaveSucceeded = (signIn: SignInRecord, actualStop: Date): boolean =>
  signIn.appPasswordId !== null &&
  (signIn.allowed ||
    (signIn.at.getTime() >= actualStop.getTime() &&
      (signIn.refusal === undefined || STOPPED_BY_OFFBOARDING.has(signIn.refusal))));

const figures = (result: Pick<Exposure, 'until' | 'windowMs'>, signIns: number): ExposureFigures => ({
  until: result.until,
  windowMs: result.windowMs,
  signIns,
});

/**
 * B5: each change re-run under `model`: the window would have closed at the model's due instant (or at
 * the fast-path suspension, which does not depend on the sync), and the sign-ins inside it counted
 * again, as they would have gone. Each change is re-run on its own: supersession between changes of one
 * object is not replayed (an offboarding is the last change of its object in practice).
 */
export const counterfactual = (
  changes: readonly ObservedChange[],
  model: DelayModel,
  now: Date,
): CounterfactualReport => {
  const results = changes.map((change): CounterfactualChange => {
    const actual = exposure(change, change.signIns, now);
    const due = dueAt(model, change, { objectGuid: change.objectGuid, trigger: change.trigger });
    const alternative = exposureWindow({ ...change, appliedAt: due }, now);
    const signIns = change.signIns
      .map(validateSignIn)
      .filter(
        (signIn) => isInside(alternative, signIn.at) && wouldHaveSucceeded(signIn, actual.until),
      ).length;
    return {
      changeId: change.changeId,
      actual: figures(actual, actual.signIns.length),
      counterfactual: figures(alternative, signIns),
      windowDeltaMs: alternative.windowMs - actual.windowMs,
      signInDelta: signIns - actual.signIns.length,
    };
  });
  const sum = (pick: (change: CounterfactualChange) => number) =>
    results.reduce((total, c) => total + pick(c), 0);
  const actualWindowMs = sum((c) => c.actual.windowMs);
  const counterfactualWindowMs = sum((c) => c.counterfactual.windowMs);
  const actualSignIns = sum((c) => c.actual.signIns);
  const counterfactualSignIns = sum((c) => c.counterfactual.signIns);
  return {
    model,
    changes: results,
    total: {
      actualWindowMs,
      counterfactualWindowMs,
      windowDeltaMs: counterfactualWindowMs - actualWindowMs,
      actualSignIns,
      counterfactualSignIns,
      signInDelta: counterfactualSignIns - actualSignIns,
    },
  };
};
