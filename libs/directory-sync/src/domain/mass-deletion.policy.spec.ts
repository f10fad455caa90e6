import { ValidationError } from '../../../app-passwords/src/domain';
import { DirectoryChangeKind } from './directory-change';
import {
  DEFAULT_DELETION_THRESHOLD,
  guardMassDeletion,
  requireDeletionThreshold,
} from './mass-deletion.policy';

const changes = (kind: DirectoryChangeKind, count: number) =>
  Array.from({ length: count }, (_, i) => ({ kind, changeId: `${kind}-${i}` }));

describe('accidental-delete guard', () => {
  it('B9: defaults to 500, as Entra Connect', () => {
    expect(DEFAULT_DELETION_THRESHOLD).toBe(500);
  });

  it('B9: a pass deleting exactly the threshold applies all of it (rule: more than the threshold)', () => {
    expect(guardMassDeletion(changes('deleted', 500), 500)).toEqual({ decision: 'apply-all' });
  });

  it('B9: one more is held, all its deletions together', () => {
    const pass = [...changes('deleted', 300), ...changes('moved-out-of-scope', 201)];
    const decision = guardMassDeletion(pass, 500);
    expect(decision).toMatchObject({ decision: 'hold-deletions', count: 501, threshold: 500 });
    expect(decision.decision === 'hold-deletions' && decision.held).toHaveLength(501);
  });

  it('B9: counts deletions only; everything else in the pass applies regardless', () => {
    const pass = [...changes('disabled', 1000), ...changes('created', 1000), ...changes('deleted', 2)];
    expect(guardMassDeletion(pass, 2)).toEqual({ decision: 'apply-all' });
    const held = guardMassDeletion(pass, 1);
    expect(held.decision === 'hold-deletions' && held.held.map((c) => c.kind)).toEqual([
      'deleted',
      'deleted',
    ]);
  });

  it('B9: a threshold of 0 holds every deletion, and nothing with none', () => {
    expect(guardMassDeletion(changes('deleted', 1), 0).decision).toBe('hold-deletions');
    expect(guardMassDeletion(changes('enabled', 3), 0).decision).toBe('apply-all');
  });

  it('B9: refuses a threshold that is not a whole number in range', () => {
    for (const bad of [-1, 1.5, '500', 2_000_000, NaN]) {
      expect(() => requireDeletionThreshold(bad)).toThrow(ValidationError);
    }
    expect(requireDeletionThreshold(0)).toBe(0);
  });
});
