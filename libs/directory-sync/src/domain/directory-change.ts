import { ValidationError } from '../../../app-passwords/src/domain';
import { isUnderDn, parseDn, ParsedDn } from './distinguished-name';
import { ACCOUNT_DISABLE, DirectoryEntryInput, EntryIssue, isUserClass, readEntry } from './directory-entry';
import { belongsInCloud, DirectoryMirror, MirroredUser, sameMirroredUser } from './directory-mirror';

/**
 * What happened to a user object, as the cloud will see it. Deletions (`deleted`,
 * `moved-out-of-scope`) are the kinds B9's guard counts. `password-reset`: pwdLastSet changed on
 * premises (B6 decides in the cloud whether that revokes app passwords).
 */
export const DIRECTORY_CHANGE_KINDS = [
  'created',
  'renamed',
  'disabled',
  'enabled',
  'deleted',
  'moved-out-of-scope',
  'password-reset',
] as const;
export type DirectoryChangeKind = (typeof DIRECTORY_CHANGE_KINDS)[number];

export interface DirectoryChange {
  kind: DirectoryChangeKind;
  objectGuid: string;
  /** The UPN after the change (the last known one for a deletion). */
  upn: string;
  /** `renamed` only. */
  previousUpn?: string;
  /** The account state after the change. */
  disabled: boolean;
  /** B6: AD's pwdLastSet after the change, when it has been read. */
  pwdLastSet?: string;
  /** From AD when the entry carried it: when the change happened on premises (the DC's clock). */
  whenChanged?: string;
}

export const isDeletion = (kind: DirectoryChangeKind): boolean =>
  kind === 'deleted' || kind === 'moved-out-of-scope';

/**
 * Which users a tenant syncs. `baseDn` is the naming context; `usersOnlyUnder` narrows it to an OU,
 * as Entra Connect's OU filtering does. Validate once with `syncScope`.
 */
export interface SyncScopeSettings {
  baseDn: string;
  usersOnlyUnder?: string;
}

export interface SyncScope {
  baseDn: ParsedDn;
  usersOnlyUnder?: ParsedDn;
}

export const syncScope = (settings: SyncScopeSettings): SyncScope => {
  const baseDn = parseDn(settings.baseDn);
  if (baseDn === undefined) {
    throw new ValidationError('directory.invalid-scope', undefined, 'baseDn must be a distinguished name.');
  }
  if (settings.usersOnlyUnder === undefined) return { baseDn };
  const usersOnlyUnder = parseDn(settings.usersOnlyUnder);
  if (usersOnlyUnder === undefined || !isUnderDn(usersOnlyUnder, baseDn)) {
    throw new ValidationError(
      'directory.invalid-scope',
      undefined,
      'usersOnlyUnder must be a distinguished name under baseDn.',
    );
  }
  return { baseDn, usersOnlyUnder };
};

const inScope = (dn: ParsedDn, scope: SyncScope): boolean =>
  isUnderDn(dn, scope.baseDn) && (scope.usersOnlyUnder === undefined || isUnderDn(dn, scope.usersOnlyUnder));

export interface Classification {
  changes: DirectoryChange[];
  mirror: DirectoryMirror;
  issues: EntryIssue[];
  /** The mirror entries this classification wrote, by objectGuid: what an event must carry. */
  updates: Record<string, MirroredUser>;
}

const diff = (
  objectGuid: string,
  before: MirroredUser | undefined,
  after: MirroredUser,
  whenChanged: string | undefined,
): DirectoryChange[] => {
  const wasInCloud = belongsInCloud(before);
  const isInCloud = belongsInCloud(after);
  if (!wasInCloud && !isInCloud) return [];
  // belongsInCloud guarantees these are set on whichever side is in the cloud.
  const upn = (isInCloud ? after.upn : before!.upn) as string;
  const disabled = (isInCloud ? after.disabled : before!.disabled) as boolean;
  const pwdLastSet = isInCloud ? after.pwdLastSet : before!.pwdLastSet;
  const change = (kind: DirectoryChangeKind, extra: Partial<DirectoryChange> = {}): DirectoryChange => ({
    kind,
    objectGuid,
    upn,
    disabled,
    ...extra,
    ...(pwdLastSet === undefined ? {} : { pwdLastSet }),
    ...(whenChanged === undefined ? {} : { whenChanged }),
  });
  // A first sight (a creation, or an object a full resync finds unknown) makes pwdLastSet the baseline.
  if (!wasInCloud) return [change('created')];
  if (!isInCloud) return [change(after.deleted ? 'deleted' : 'moved-out-of-scope')];
  const changes: DirectoryChange[] = [];
  if (before!.upn !== upn) changes.push(change('renamed', { previousUpn: before!.upn as string }));
  // B6, failing closed: any other pwdLastSet than the baseline is a reset, "must change password at
  // next logon" ticked or unticked included. Without a baseline (a user mirrored before pwdLastSet
  // was read), the first one read is the baseline.
  if (before!.pwdLastSet !== undefined && before!.pwdLastSet !== pwdLastSet) {
    changes.push(change('password-reset'));
  }
  // The account-state change last: the last change of an object carries its state and is the one
  // scheduled, so an offboarding's own change is the one that lands (B1's timelines follow it).
  if (before!.disabled !== disabled) changes.push(change(disabled ? 'disabled' : 'enabled'));
  return changes;
};

type EntryOutcome = { changes: DirectoryChange[]; issues: EntryIssue[]; update?: [string, MirroredUser] };

const classifyEntry = (
  known: (objectGuid: string) => MirroredUser | undefined,
  input: DirectoryEntryInput,
  scope: SyncScope,
): EntryOutcome => {
  const { entry, issues } = readEntry(input);
  if (entry === undefined) return { changes: [], issues };
  const refuse = (field: string, reason: string): EntryOutcome => ({
    changes: [],
    issues: [...issues, { objectGuid: entry.objectGuid, field, reason }],
  });

  const before = known(entry.objectGuid);
  if (entry.objectClass !== undefined && !isUserClass(entry.objectClass)) {
    return before === undefined
      ? { changes: [], issues }
      : refuse('objectClass', 'a-known-user-is-no-longer-a-user');
  }
  if (before === undefined && entry.objectClass === undefined) {
    return refuse('objectClass', 'unknown-object-without-object-class');
  }

  const deleted = entry.isDeleted ?? before?.deleted ?? false;
  if (deleted !== entry.tombstoneDn) {
    return refuse('isDeleted', deleted ? 'deleted-without-tombstone-dn' : 'tombstone-dn-without-is-deleted');
  }
  const after: MirroredUser = {
    upn: entry.upn ?? before?.upn ?? null,
    disabled:
      entry.userAccountControl === undefined
        ? (before?.disabled ?? null)
        : (entry.userAccountControl & ACCOUNT_DISABLE) !== 0,
    deleted,
    inScope: !deleted && inScope(entry.dn, scope),
  };
  const pwdLastSet = entry.pwdLastSet ?? before?.pwdLastSet;
  if (pwdLastSet !== undefined) after.pwdLastSet = pwdLastSet;
  return {
    changes: diff(entry.objectGuid, before, after, entry.whenChanged),
    issues,
    ...(sameMirroredUser(before, after) ? {} : { update: [entry.objectGuid, after] }),
  };
};

const lookup =
  (mirror: DirectoryMirror, updates: Record<string, MirroredUser>) =>
  (objectGuid: string): MirroredUser | undefined =>
    Object.hasOwn(updates, objectGuid)
      ? updates[objectGuid]
      : Object.hasOwn(mirror, objectGuid)
        ? mirror[objectGuid]
        : undefined;

/**
 * Classifies DirSync entries in order against the mirror (each against what the previous ones left):
 * the changes the cloud will see, and the mirror's new state.
 *
 * - Only user objects count (objectClass has `user` and not `computer`). An object the mirror does not
 *   know, sent without objectClass (a partial entry), is ignored and reported: it cannot be told from
 *   a group or a computer. An unknown user sent without a UPN or userAccountControl is remembered but
 *   not provisioned until an entry completes it.
 * - An attribute missing from the entry keeps its previous value; a UPN that comes back empty keeps
 *   the previous one too (Entra never deletes a cloud user for losing its UPN), and so does an
 *   empty pwdLastSet.
 * - B6: a pwdLastSet other than the one last read, on a user the cloud holds, is a `password-reset`;
 *   the first one read of an object (its creation, a full resync from scratch) is its baseline.
 * - A tombstone is `isDeleted: TRUE` with a `…\0ADEL:…,CN=Deleted Objects,…` DN. Either without the
 *   other is inconsistent, and the entry is refused rather than deleting anyone on half a signal.
 * - Leaving the sync scope deletes the cloud user (`moved-out-of-scope`), as Entra Connect does.
 * - Every value is validated; what does not validate is reported in `issues` and believed in no part
 *   (see `readEntry`). Nothing throws: one odd object must not stall a tenant's sync.
 */
export const classifyAll = (
  mirror: DirectoryMirror,
  entries: readonly DirectoryEntryInput[],
  scope: SyncScope,
): Classification => {
  const updates: Record<string, MirroredUser> = {};
  const changes: DirectoryChange[] = [];
  const issues: EntryIssue[] = [];
  const known = lookup(mirror, updates);
  for (const entry of entries) {
    const outcome = classifyEntry(known, entry, scope);
    changes.push(...outcome.changes);
    issues.push(...outcome.issues);
    if (outcome.update !== undefined) updates[outcome.update[0]] = outcome.update[1];
  }
  return {
    changes,
    issues,
    updates,
    mirror: Object.keys(updates).length === 0 ? mirror : { ...mirror, ...updates },
  };
};

/** One entry: `classifyAll` of a single entry. */
export const classify = (
  mirror: DirectoryMirror,
  entry: DirectoryEntryInput,
  scope: SyncScope,
): Classification => classifyAll(mirror, [entry], scope);
