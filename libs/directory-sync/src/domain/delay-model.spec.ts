import { ValidationError } from '../../../app-passwords/src/domain';
import { DEFAULT_MAX_DELAY_MS, DelayModel, delayModel, dueAt } from './delay-model';
import { drawFor, fnv1a32, mulberry32 } from './seeded-random';
import { at, guid, HOUR, MINUTE, T0 } from './testing/fixtures';

const SECOND = 1000;
const context = { objectGuid: guid(1) };
const due = (model: DelayModel, detectedAt: Date, trigger: 'scheduled' | 'on-demand' = 'scheduled') =>
  dueAt(model, { detectedAt }, { ...context, trigger });
const lands = (model: DelayModel, detectedAt: Date) => {
  const instant = due(model, detectedAt).getTime();
  return { before: new Date(instant - 1), at: new Date(instant), instant };
};

describe('delay models', () => {
  describe('cycle (Entra Connect default)', () => {
    const cycle = delayModel({ kind: 'cycle' });

    it('R8: defaults to a 30-minute cycle on whole half hours, 2 minutes of processing, a 3-hour cap', () => {
      expect(cycle).toEqual({
        kind: 'cycle',
        intervalMs: 30 * MINUTE,
        anchor: '1970-01-01T00:00:00.000Z',
        processingMs: 2 * MINUTE,
        maxDelayMs: 3 * HOUR,
      });
    });

    it('R8: a change lands at the first cycle after it is seen, plus processing', () => {
      expect(due(cycle, at(1))).toEqual(at(32));
      expect(due(cycle, at(29.99))).toEqual(at(32));
      // A cycle starting the instant a change is seen has already read the directory.
      expect(due(cycle, at(0))).toEqual(at(32));
      expect(due(cycle, at(30))).toEqual(at(62));
    });

    it('R8: not before the due instant, exactly at it', () => {
      const { before, instant } = lands(cycle, at(7));
      expect(before.getTime()).toBeLessThan(at(32).getTime());
      expect(instant).toBe(at(32).getTime());
    });

    it('R8: cycles align to the anchor, before or after it, in seconds for tests', () => {
      const fast = delayModel({
        kind: 'cycle',
        intervalMs: 10 * SECOND,
        processingMs: 1 * SECOND,
        maxDelayMs: 30 * SECOND,
        anchor: '2026-03-03T14:00:03Z',
      });
      expect(due(fast, at(0))).toEqual(new Date(T0.getTime() + 4 * SECOND));
      expect(due(fast, new Date(T0.getTime() + 3 * SECOND))).toEqual(new Date(T0.getTime() + 14 * SECOND));
    });

    it('R8: capped: a cycle as long as the cap never lands later than the cap after detection', () => {
      const long = delayModel({ kind: 'cycle', intervalMs: 3 * HOUR, processingMs: 5 * MINUTE });
      expect(due(long, new Date(Date.UTC(2026, 2, 3, 0, 0, 1)))).toEqual(
        new Date(Date.UTC(2026, 2, 3, 3, 0, 1)),
      );
      expect(due(long, new Date(Date.UTC(2026, 2, 3, 2, 0, 0)))).toEqual(
        new Date(Date.UTC(2026, 2, 3, 3, 5, 0)),
      );
    });

    it('B10: an on-demand pass is a manual delta cycle: it lands after one processing', () => {
      expect(due(cycle, at(1), 'on-demand')).toEqual(at(3));
    });
  });

  describe('fixed', () => {
    const fixed = delayModel({ kind: 'fixed', delayMs: 5 * SECOND, maxDelayMs: 10 * SECOND });

    it('R8: lands exactly delayMs after detection, not a millisecond before', () => {
      const { before, instant } = lands(fixed, T0);
      expect(instant).toBe(T0.getTime() + 5 * SECOND);
      expect(before.getTime()).toBe(T0.getTime() + 5 * SECOND - 1);
    });

    it('B10: ignores on-demand (it models a delay, not a schedule)', () => {
      expect(due(fixed, T0, 'on-demand')).toEqual(due(fixed, T0));
    });
  });

  describe('uniform (seeded)', () => {
    const uniform = delayModel({ kind: 'uniform', minMs: 10 * MINUTE, maxMs: 2 * HOUR, seed: 42 });

    it('R8: draws within [minMs, maxMs], reproducibly', () => {
      for (let n = 1; n <= 200; n++) {
        const delay =
          dueAt(uniform, { detectedAt: at(n) }, { objectGuid: guid(n) }).getTime() - at(n).getTime();
        expect(delay).toBeGreaterThanOrEqual(10 * MINUTE);
        expect(delay).toBeLessThanOrEqual(2 * HOUR);
        expect(
          dueAt(uniform, { detectedAt: at(n) }, { objectGuid: guid(n) }).getTime() - at(n).getTime(),
        ).toBe(delay);
      }
    });

    it('R8: two changes seen at one instant get their own draws; another seed gives another run', () => {
      const delays = new Set(
        [1, 2, 3, 4, 5].map((n) => dueAt(uniform, { detectedAt: T0 }, { objectGuid: guid(n) }).getTime()),
      );
      expect(delays.size).toBe(5);
      const reseeded = delayModel({ kind: 'uniform', minMs: 10 * MINUTE, maxMs: 2 * HOUR, seed: 43 });
      expect(due(reseeded, T0)).not.toEqual(due(uniform, T0));
    });

    it('R8: min = max is a fixed delay, and both ends are reachable', () => {
      const point = delayModel({ kind: 'uniform', minMs: 7 * SECOND, maxMs: 7 * SECOND, seed: 1 });
      expect(due(point, T0).getTime()).toBe(T0.getTime() + 7 * SECOND);
      const coin = delayModel({ kind: 'uniform', minMs: 0, maxMs: 1, seed: 1 });
      const seen = new Set(
        [...Array(64).keys()].map(
          (n) => dueAt(coin, { detectedAt: T0 }, { objectGuid: guid(n + 1) }).getTime() - T0.getTime(),
        ),
      );
      expect(seen).toEqual(new Set([0, 1]));
    });

    it('uses the published mulberry32 and FNV-1a', () => {
      expect(fnv1a32('')).toBe(0x811c9dc5);
      expect(fnv1a32('a')).toBe(0xe40c292c);
      // The value every mulberry32 port prints for seed 1.
      expect(mulberry32(1)()).toBe(0.6270739405881613);
      expect(drawFor('x')).toBeGreaterThanOrEqual(0);
      expect(drawFor('x')).toBeLessThan(1);
    });
  });

  describe('worst-case', () => {
    it('R8: lands at the cap: three hours by default', () => {
      const worst = delayModel({ kind: 'worst-case' });
      const { before, instant } = lands(worst, T0);
      expect(instant).toBe(T0.getTime() + DEFAULT_MAX_DELAY_MS);
      expect(before.getTime()).toBe(T0.getTime() + 3 * HOUR - 1);
      expect(due(delayModel({ kind: 'worst-case', maxDelayMs: 9 * SECOND }), T0)).toEqual(
        new Date(T0.getTime() + 9000),
      );
    });
  });

  describe('validation', () => {
    const refuses = (settings: unknown, field: RegExp) => {
      let error: unknown;
      try {
        delayModel(settings);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe('delay-model.invalid');
      expect((error as ValidationError).message).toMatch(field);
    };

    it('R8: names the field it refuses', () => {
      refuses(null, /delayModel/);
      refuses({ kind: 'gaussian' }, /delayModel\.kind/);
      refuses({ kind: 'fixed' }, /delayModel\.delayMs is required/);
      refuses({ kind: 'fixed', delayMs: -1 }, /delayModel\.delayMs/);
      refuses({ kind: 'fixed', delayMs: 1.5 }, /delayModel\.delayMs/);
      refuses({ kind: 'fixed', delayMs: '5' }, /delayModel\.delayMs/);
      refuses(
        { kind: 'fixed', delayMs: 4 * HOUR },
        /delayModel\.delayMs must not exceed delayModel\.maxDelayMs/,
      );
      refuses({ kind: 'fixed', delay: 5 }, /delayModel\.delay is not a field/);
      refuses({ kind: 'cycle', intervalMs: 0 }, /delayModel\.intervalMs/);
      refuses({ kind: 'cycle', maxDelayMs: 0 }, /delayModel\.maxDelayMs/);
      refuses({ kind: 'cycle', maxDelayMs: 8 * 24 * HOUR }, /delayModel\.maxDelayMs/);
      refuses({ kind: 'cycle', intervalMs: 4 * HOUR }, /delayModel\.intervalMs must not exceed/);
      refuses({ kind: 'cycle', anchor: 'yesterday' }, /delayModel\.anchor/);
      refuses(
        { kind: 'uniform', minMs: 5, maxMs: 4, seed: 1 },
        /delayModel\.minMs must not exceed delayModel\.maxMs/,
      );
      refuses({ kind: 'uniform', minMs: 1, maxMs: 4 * HOUR, seed: 1 }, /delayModel\.maxMs must not exceed/);
      refuses({ kind: 'uniform', minMs: 1, maxMs: 4 }, /delayModel\.seed/);
      refuses({ kind: 'uniform', minMs: 1, maxMs: 4, seed: -1 }, /delayModel\.seed/);
    });

    it('R8: keeps processing inside a short cap by default, so a seconds-long test model is valid', () => {
      expect(delayModel({ kind: 'cycle', intervalMs: 10 * SECOND, maxDelayMs: 30 * SECOND })).toMatchObject({
        processingMs: 30 * SECOND,
      });
    });

    it('refuses an invalid detection instant', () => {
      expect(() => due(delayModel({ kind: 'worst-case' }), new Date(NaN))).toThrow(ValidationError);
    });
  });
});
