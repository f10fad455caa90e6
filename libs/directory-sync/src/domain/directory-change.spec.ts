import { classify, classifyAll, DirectoryChange, syncScope } from './directory-change';
import { DirectoryMirror, emptyMirror } from './directory-mirror';
import {
  BASE_DN,
  disabledEntry,
  enabledEntry,
  guid,
  partialEntry,
  STAFF_OU,
  tombstoneEntry,
  upn,
  userEntry,
} from './testing/fixtures';

const scope = syncScope({ baseDn: BASE_DN, usersOnlyUnder: STAFF_OU });
const known = (...ns: number[]): DirectoryMirror =>
  classifyAll(
    emptyMirror(),
    ns.map((n) => userEntry(n)),
    scope,
  ).mirror;
const change = (n: number, kind: DirectoryChange['kind'], extra: Partial<DirectoryChange> = {}) =>
  expect.objectContaining({ kind, objectGuid: guid(n), upn: upn(n), ...extra });

describe('classifying DirSync entries', () => {
  it('R8: a new user in scope is created as a synced user, with when it changed on premises', () => {
    const { changes, mirror, issues } = classify(emptyMirror(), userEntry(1), scope);
    expect(changes).toEqual([
      {
        kind: 'created',
        objectGuid: guid(1),
        upn: upn(1),
        disabled: false,
        whenChanged: '2026-03-03T13:55:00.000Z',
      },
    ]);
    expect(mirror[guid(1)]).toEqual({ upn: upn(1), disabled: false, deleted: false, inScope: true });
    expect(issues).toEqual([]);
  });

  it('R8: a user created disabled arrives disabled', () => {
    const { changes } = classify(emptyMirror(), userEntry(1, { userAccountControl: ['514'] }), scope);
    expect(changes).toEqual([change(1, 'created', { disabled: true })]);
  });

  it('counts users only: not computers, contacts or groups', () => {
    const entries = [
      userEntry(1, { objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'] }),
      userEntry(2, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'] }),
      userEntry(3, { objectClass: ['top', 'group'] }),
      userEntry(4, { objectClass: ['top', 'person', 'organizationalPerson', 'user', 'inetOrgPerson'] }),
    ];
    const { changes, mirror } = classifyAll(emptyMirror(), entries, scope);
    expect(changes).toEqual([change(4, 'created')]);
    expect(Object.keys(mirror)).toEqual([guid(4)]);
  });

  it('R15: the disable bit (0x2) set is `disabled`, cleared is `enabled`, from partial entries', () => {
    const disabled = classify(known(1), disabledEntry(1), scope);
    expect(disabled.changes).toEqual([change(1, 'disabled', { disabled: true })]);
    const enabled = classify(disabled.mirror, enabledEntry(1), scope);
    expect(enabled.changes).toEqual([change(1, 'enabled', { disabled: false })]);
  });

  it('reads other userAccountControl bits, unsigned or signed, as no change of state', () => {
    // 66048 = NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD; -2147483134 sets the top bit and 0x2.
    expect(classify(known(1), partialEntry(1, { userAccountControl: ['66048'] }), scope).changes).toEqual([]);
    expect(
      classify(known(1), partialEntry(1, { userAccountControl: ['-2147483134'] }), scope).changes,
    ).toEqual([change(1, 'disabled')]);
  });

  it('a rename follows the UPN, normalised', () => {
    const { changes } = classify(
      known(1),
      partialEntry(1, { userPrincipalName: ['Alice.New@Contoso.Example'] }),
      scope,
    );
    expect(changes).toEqual([
      {
        kind: 'renamed',
        objectGuid: guid(1),
        upn: 'alice.new@contoso.example',
        previousUpn: upn(1),
        disabled: false,
      },
    ]);
  });

  it('a rename and a disable in one entry are two changes, rename first', () => {
    const entry = partialEntry(1, {
      userPrincipalName: ['alice@contoso.example'],
      userAccountControl: ['514'],
    });
    expect(classify(known(1), entry, scope).changes.map((c) => c.kind)).toEqual(['renamed', 'disabled']);
  });

  it('R15: a tombstone (isDeleted and a \\0ADEL: DN under Deleted Objects) is `deleted`, with the last UPN', () => {
    const { changes, mirror } = classify(known(1), tombstoneEntry(1), scope);
    expect(changes).toEqual([change(1, 'deleted')]);
    expect(mirror[guid(1)]).toMatchObject({ deleted: true, inScope: false });
  });

  it('leaving the sync scope deletes the cloud user, as Entra Connect does; coming back creates it again', () => {
    const out = classify(known(1), partialEntry(1, {}, `CN=User 1,OU=Leavers,${BASE_DN}`), scope);
    expect(out.changes).toEqual([change(1, 'moved-out-of-scope')]);
    const back = classify(out.mirror, partialEntry(1, {}, `CN=User 1,${STAFF_OU}`), scope);
    expect(back.changes).toEqual([change(1, 'created')]);
  });

  it('remembers users out of scope, so one moved in later is created with what was known', () => {
    const outside = classify(
      emptyMirror(),
      { ...userEntry(1), dn: `CN=User 1,OU=Leavers,${BASE_DN}` },
      scope,
    );
    expect(outside.changes).toEqual([]);
    const moved = classify(outside.mirror, partialEntry(1, {}), scope);
    expect(moved.changes).toEqual([change(1, 'created')]);
  });

  it('ignores, and reports, a partial entry for an object it does not know: it could be a group', () => {
    const { changes, mirror, issues } = classify(emptyMirror(), disabledEntry(1), scope);
    expect(changes).toEqual([]);
    expect(mirror).toEqual({});
    expect(issues).toEqual([
      { objectGuid: guid(1), field: 'objectClass', reason: 'unknown-object-without-object-class' },
    ]);
  });

  it('remembers an unknown user without UPN or userAccountControl, and creates it once an entry completes it', () => {
    const partial = classify(emptyMirror(), partialEntry(1, { objectClass: ['user'] }), scope);
    expect(partial.changes).toEqual([]);
    expect(partial.mirror[guid(1)]).toEqual({ upn: null, disabled: null, deleted: false, inScope: true });
    const upnOnly = classify(partial.mirror, partialEntry(1, { userPrincipalName: [upn(1)] }), scope);
    expect(upnOnly.changes).toEqual([]);
    const complete = classify(upnOnly.mirror, disabledEntry(1), scope);
    expect(complete.changes).toEqual([change(1, 'created', { disabled: true })]);
  });

  it('a tombstone of a user never provisioned changes nothing in the cloud', () => {
    const unprovisioned = classify(emptyMirror(), partialEntry(1, { objectClass: ['user'] }), scope).mirror;
    expect(classify(unprovisioned, tombstoneEntry(1), scope).changes).toEqual([]);
  });

  it('R15: refuses half a deletion signal rather than deleting anyone on it', () => {
    const isDeletedOnly = classify(known(1), partialEntry(1, { isDeleted: ['TRUE'] }), scope);
    expect(isDeletedOnly.changes).toEqual([]);
    expect(isDeletedOnly.issues).toEqual([
      { objectGuid: guid(1), field: 'isDeleted', reason: 'deleted-without-tombstone-dn' },
    ]);
    const dnOnly = classify(known(1), { ...tombstoneEntry(1), attributes: {} }, scope);
    expect(dnOnly.changes).toEqual([]);
    expect(dnOnly.issues[0].reason).toBe('tombstone-dn-without-is-deleted');
  });

  it('keeps the previous UPN when it comes back empty (Entra never deletes a user for that)', () => {
    const { changes, mirror } = classify(known(1), partialEntry(1, { userPrincipalName: [] }), scope);
    expect(changes).toEqual([]);
    expect(mirror[guid(1)].upn).toBe(upn(1));
  });

  it('reads attribute names case-insensitively', () => {
    const { changes } = classify(known(1), partialEntry(1, { USERACCOUNTCONTROL: ['514'] }), scope);
    expect(changes).toEqual([change(1, 'disabled')]);
  });

  describe('untrusted values', () => {
    it('drops a bad attribute with an issue but believes the rest of the entry', () => {
      const entry = partialEntry(1, { userAccountControl: ['514'], userPrincipalName: ['not a upn'] });
      const { changes, issues } = classify(known(1), entry, scope);
      expect(changes).toEqual([change(1, 'disabled')]);
      expect(issues).toEqual([{ objectGuid: guid(1), field: 'userPrincipalName', reason: 'not-a-upn' }]);
    });

    it('never invents a disable from a value it cannot read', () => {
      for (const value of [['abc'], ['514', '512'], ['99999999999'], ['0x2']]) {
        const { changes, issues } = classify(known(1), partialEntry(1, { userAccountControl: value }), scope);
        expect(changes).toEqual([]);
        expect(issues).toHaveLength(1);
      }
    });

    it('treats one attribute spelled twice with different values as unreadable', () => {
      const entry = partialEntry(1, { userAccountControl: ['514'], useraccountcontrol: ['512'] });
      const { changes, issues } = classify(known(1), entry, scope);
      expect(changes).toEqual([]);
      expect(issues[0]).toMatchObject({ reason: 'ambiguous' });
    });

    it('drops entries it cannot anchor or place, and malformed shapes', () => {
      const bad = [
        { ...userEntry(1), objectGuid: 'D0000000-0000-4000-8000-000000000001' },
        { ...userEntry(1), dn: 'not a dn' },
        { ...userEntry(1), attributes: { userAccountControl: '514' } as unknown as Record<string, string[]> },
        { ...userEntry(1), attributes: { userPrincipalName: [upn(1).padEnd(2000, 'x')] } },
        null as unknown as ReturnType<typeof userEntry>,
      ];
      const { changes, issues } = classifyAll(known(1), bad, scope);
      expect(changes).toEqual([]);
      expect(issues.length).toBeGreaterThanOrEqual(bad.length);
    });

    it('a delta with every requested attribute it left out as an empty list (as ldapts answers) is no issue and changes only what it carried', () => {
      const delta = partialEntry(1, {
        userAccountControl: ['514'],
        objectClass: [],
        whenChanged: [],
        pwdLastSet: [],
        userPrincipalName: [],
      });
      const { changes, issues } = classify(known(1), delta, scope);
      expect(issues).toEqual([]);
      expect(changes).toEqual([
        expect.objectContaining({ objectGuid: guid(1), disabled: true, upn: upn(1) }),
      ]);
    });

    it('rejects a bad whenChanged but keeps the change', () => {
      const { changes, issues } = classify(
        emptyMirror(),
        userEntry(1, { whenChanged: ['20260231120000.0Z'] }),
        scope,
      );
      expect(changes).toEqual([{ kind: 'created', objectGuid: guid(1), upn: upn(1), disabled: false }]);
      expect(issues).toEqual([
        { objectGuid: guid(1), field: 'whenChanged', reason: 'not-a-generalized-time' },
      ]);
    });
  });

  it('an entry that changes nothing leaves the mirror as it was', () => {
    const mirror = known(1);
    const result = classify(mirror, partialEntry(1, { displayName: ['Alice'] }), scope);
    expect(result.changes).toEqual([]);
    expect(result.mirror).toBe(mirror);
    expect(result.updates).toEqual({});
  });
});
