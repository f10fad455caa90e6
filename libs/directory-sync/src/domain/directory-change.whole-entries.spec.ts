import { classifyAll, DirectoryChange, syncScope } from './directory-change';
import { DirectoryEntryInput } from './directory-entry';
import { DirectoryMirror, emptyMirror } from './directory-mirror';
import { BASE_DN, guid, STAFF_OU, upn, userEntry } from './testing/fixtures';

/**
 * uSNChanged polling hands over whole objects, unlike DirSync: every requested attribute, one the
 * object lacks as an empty list (isDeleted on a live object; userPrincipalName, which AD strips
 * from a tombstone). The same rules must come out as from DirSync's partial entries, and reading an
 * unchanged object again (every poll after a full resync does) must change nothing.
 */
const scope = syncScope({ baseDn: BASE_DN, usersOnlyUnder: STAFF_OU });

/** `userEntry` as a poll returns it: with every requested attribute, the ones it lacks empty. */
const wholeEntry = (
  n: number,
  attributes: Record<string, string[]> = {},
  dn?: string,
): DirectoryEntryInput => {
  const entry = userEntry(n, { displayName: [], isDeleted: [], uSNChanged: ['4242'], ...attributes });
  return dn === undefined ? entry : { ...entry, dn };
};

/** A tombstone as Samba returns it through show-deleted: renamed, moved, UPN stripped, isDeleted. */
const wholeTombstone = (n: number): DirectoryEntryInput =>
  wholeEntry(
    n,
    { isDeleted: ['TRUE'], userPrincipalName: [] },
    `CN=User ${n}\\0ADEL:${guid(n)},CN=Deleted Objects,${BASE_DN}`,
  );

const read = (mirror: DirectoryMirror, ...entries: DirectoryEntryInput[]) =>
  classifyAll(mirror, entries, scope);
const kinds = (changes: DirectoryChange[]) => changes.map((c) => `${c.kind} ${c.upn}`);

describe('classifying whole entries (uSNChanged polling)', () => {
  const seen = read(emptyMirror(), wholeEntry(1), wholeEntry(2)).mirror;

  it('R8: a new user in scope is created once; reading it again unchanged changes nothing', () => {
    const first = read(emptyMirror(), wholeEntry(1));
    expect(kinds(first.changes)).toEqual([`created ${upn(1)}`]);
    expect(first.issues).toEqual([]);

    const again = read(first.mirror, wholeEntry(1));
    expect(again.changes).toEqual([]);
    expect(again.updates).toEqual({});
  });

  it('a full resync of unchanged users detects nothing and mirrors nothing', () => {
    const resync = read(seen, wholeEntry(2), wholeEntry(1));
    expect(resync.changes).toEqual([]);
    expect(resync.updates).toEqual({});
    expect(resync.issues).toEqual([]);
  });

  it('R15: userAccountControl 514 in a whole entry is a disable, 512 again an enable, once each', () => {
    const disabled = read(seen, wholeEntry(1, { userAccountControl: ['514'] }), wholeEntry(2));
    expect(disabled.changes).toEqual([
      expect.objectContaining({ kind: 'disabled', objectGuid: guid(1), disabled: true }),
    ]);
    const enabled = read(disabled.mirror, wholeEntry(1), wholeEntry(2));
    expect(enabled.changes).toEqual([
      expect.objectContaining({ kind: 'enabled', objectGuid: guid(1), disabled: false }),
    ]);
  });

  it('a UPN change is a rename that follows the UPN; the unchanged attributes beside it are no change', () => {
    const renamed = read(seen, wholeEntry(1, { userPrincipalName: ['renamed1@contoso.example'] }));
    expect(renamed.changes).toEqual([
      expect.objectContaining({
        kind: 'renamed',
        objectGuid: guid(1),
        upn: 'renamed1@contoso.example',
        previousUpn: upn(1),
      }),
    ]);
  });

  it('a UPN that comes back empty keeps the previous one, as from DirSync', () => {
    expect(read(seen, wholeEntry(1, { userPrincipalName: [] })).changes).toEqual([]);
  });

  it('R15: a tombstone found through show-deleted is a delete under the last known UPN, once', () => {
    const deleted = read(seen, wholeTombstone(1));
    expect(deleted.changes).toEqual([
      expect.objectContaining({ kind: 'deleted', objectGuid: guid(1), upn: upn(1) }),
    ]);
    expect(deleted.issues).toEqual([]);
    expect(read(deleted.mirror, wholeTombstone(1)).changes).toEqual([]);
  });

  it('the tombstone of a user never seen (a full resync over old deletions) provisions and deletes no one', () => {
    const resync = read(emptyMirror(), wholeTombstone(7));
    expect(resync.changes).toEqual([]);
    expect(resync.issues).toEqual([]);
  });

  it('a deleted user restored on premises comes back whole, isDeleted empty: created again', () => {
    const deleted = read(seen, wholeTombstone(1)).mirror;
    const restored = read(deleted, wholeEntry(1));
    expect(restored.changes).toEqual([expect.objectContaining({ kind: 'created', objectGuid: guid(1) })]);
    expect(restored.issues).toEqual([]);
  });

  it('half a tombstone (isDeleted without the Deleted Objects DN) deletes no one', () => {
    const half = read(seen, wholeEntry(1, { isDeleted: ['TRUE'] }));
    expect(half.changes).toEqual([]);
    expect(half.issues).toEqual([expect.objectContaining({ objectGuid: guid(1), field: 'isDeleted' })]);
  });
});
