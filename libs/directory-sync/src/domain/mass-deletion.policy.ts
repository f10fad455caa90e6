import { ValidationError } from '../../../app-passwords/src/domain';
import { DirectoryChange, isDeletion } from './directory-change';

/** Entra Connect's default "prevent accidental deletes" threshold. */
export const DEFAULT_DELETION_THRESHOLD = 500;
export const MAX_DELETION_THRESHOLD = 1_000_000;

export const requireDeletionThreshold = (value: unknown): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_DELETION_THRESHOLD) {
    throw new ValidationError(
      'directory.invalid-deletion-threshold',
      'B9',
      `deletionThreshold must be a whole number from 0 to ${MAX_DELETION_THRESHOLD}.`,
    );
  }
  return value;
};

export type MassDeletionDecision<Change> =
  | { decision: 'apply-all' }
  | { decision: 'hold-deletions'; held: Change[]; count: number; threshold: number };

/**
 * B9, rule `more-than-threshold`: a pass whose deletions (deleted or moved out of scope) number more
 * than the threshold holds all of them for an admin; exactly the threshold still applies, as Entra
 * Connect counts ("more than 500 objects"). Everything else in the pass applies either way: holding a
 * disable would lengthen exactly the exposure R8 is about. A threshold of 0 holds every deletion.
 * The caller passes the changes that would delete a cloud user; a deletion of something the cloud
 * never got deletes nobody.
 */
export const guardMassDeletion = <Change extends Pick<DirectoryChange, 'kind'>>(
  changes: readonly Change[],
  threshold: number,
): MassDeletionDecision<Change> => {
  const deletions = changes.filter((change) => isDeletion(change.kind));
  return deletions.length > threshold
    ? { decision: 'hold-deletions', held: deletions, count: deletions.length, threshold }
    : { decision: 'apply-all' };
};
