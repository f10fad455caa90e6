import { counterfactual, ObservedChange } from './counterfactual';
import { delayModel } from './delay-model';
import { SignInRecord } from './exposure';
import { at, guid, MINUTE } from './testing/fixtures';

const signIn = (minutes: number, data: Partial<SignInRecord> = {}): SignInRecord => ({
  at: at(minutes),
  allowed: true,
  appPasswordId: 'a0000000-0000-4000-8000-000000000001',
  clientIp: '203.0.113.7',
  protocol: 'imap',
  ...data,
});

/** Disabled on premises at T0, applied 90 minutes later; sign-ins before and after the real stop. */
const offboarding: ObservedChange = {
  changeId: 'c-1',
  objectGuid: guid(1),
  detectedAt: at(0),
  appliedAt: at(90),
  signIns: [
    signIn(10),
    signIn(60),
    signIn(100, { allowed: false, refusal: 'account-disabled' }),
    signIn(110, { allowed: false, refusal: 'protocol-not-allowed' }),
  ],
};

describe('counterfactual replay', () => {
  it('B5: a shorter model closes the window sooner and removes the sign-ins after it', () => {
    const report = counterfactual(
      [offboarding],
      delayModel({ kind: 'fixed', delayMs: 30 * MINUTE }),
      at(200),
    );
    expect(report.changes).toEqual([
      {
        changeId: 'c-1',
        actual: { until: at(90), windowMs: 90 * MINUTE, signIns: 2 },
        counterfactual: { until: at(30), windowMs: 30 * MINUTE, signIns: 1 },
        windowDeltaMs: -60 * MINUTE,
        signInDelta: -1,
      },
    ]);
  });

  it('B5: a longer model counts the attempts the offboarding refused as ones that would have succeeded, not others', () => {
    const report = counterfactual([offboarding], delayModel({ kind: 'worst-case' }), at(200));
    expect(report.changes[0]).toMatchObject({
      counterfactual: { until: at(180), windowMs: 180 * MINUTE, signIns: 3 },
      windowDeltaMs: 90 * MINUTE,
      signInDelta: 1,
    });
  });

  it('B5, B2: the fast-path suspension does not depend on the sync model', () => {
    const fastPath = {
      ...offboarding,
      suspendedAt: at(1),
      signIns: [signIn(0.5), signIn(10, { allowed: false })],
    };
    const report = counterfactual([fastPath], delayModel({ kind: 'worst-case' }), at(200));
    expect(report.changes[0]).toMatchObject({
      counterfactual: { windowMs: MINUTE, signIns: 1 },
      windowDeltaMs: 0,
      signInDelta: 0,
    });
  });

  it('B5: totals add up across changes, and the cycle model re-runs with the change’s trigger', () => {
    const second: ObservedChange = {
      changeId: 'c-2',
      objectGuid: guid(2),
      detectedAt: at(5),
      appliedAt: at(10),
      trigger: 'on-demand',
      signIns: [],
    };
    const report = counterfactual([offboarding, second], delayModel({ kind: 'cycle' }), at(200));
    expect(report.changes.map((c) => c.counterfactual.until)).toEqual([at(32), at(7)]);
    expect(report.total).toEqual({
      actualWindowMs: 95 * MINUTE,
      counterfactualWindowMs: 34 * MINUTE,
      windowDeltaMs: -61 * MINUTE,
      actualSignIns: 2,
      counterfactualSignIns: 1,
      signInDelta: -1,
    });
  });

  it('B5: re-running under the same model as happened changes nothing', () => {
    const model = delayModel({ kind: 'fixed', delayMs: 90 * MINUTE });
    expect(counterfactual([offboarding], model, at(200)).total).toMatchObject({
      windowDeltaMs: 0,
      signInDelta: 0,
    });
  });
});
