import { RuleViolationError } from '../../../app-passwords/src/domain';
import { readEntry } from './directory-entry';
import { DirectorySyncEvent } from './directory-sync.events';
import { pendingChanges } from './directory-sync.state';
import {
  at,
  directoryConnected,
  guid,
  partialEntry,
  passId,
  T0,
  TENANT_ID,
  upn,
  userEntry,
} from './testing/fixtures';
import {
  applyChange,
  change,
  fold,
  given,
  history,
  ofType,
  syncedUserId,
  syncPass,
} from './testing/directory-sync.history';

/**
 * B6 for synced users: a password reset on premises changes the object's pwdLastSet, and reaches the
 * cloud as a change like any other (R8's delay model), where the tenant's B6 policy decides whether
 * it revokes the user's app passwords (R5: by default it does not).
 */
const userId = syncedUserId(1);
/** pwdLastSet as AD shows it: 100-ns intervals since 1601. */
const SET_AT_HIRE = '134170000000000000';
const RESET = '134180000000000000';

/** User 1 created at T0 with its first password, and applied at T0+30. */
const provisioned = () =>
  history(
    [directoryConnected()],
    syncPass(1, T0, [userEntry(1, { pwdLastSet: [SET_AT_HIRE] })]),
    applyChange(change(1, 0), at(30)),
  );
const detected = (events: DirectorySyncEvent[]) =>
  ofType(events, 'DirectoryChangeDetected').map((event) => event.data.kind);

describe('B6: an on-premises password reset of a synced user', () => {
  it('B6: the first sight of an object records its pwdLastSet as the baseline: a creation, not a reset', () => {
    const events = provisioned();
    expect(detected(events)).toEqual(['created']);
    expect(ofType(events, 'DirectoryChangeApplied')[0].data.actions).toEqual([
      { type: 'provision', userId, upn: upn(1), disabled: false, pwdLastSet: SET_AT_HIRE },
    ]);
    const state = fold(events);
    expect(state.status === 'connected' && state.cloud[guid(1)]?.pwdLastSet).toBe(SET_AT_HIRE);
  });

  it('B6: a changed pwdLastSet is a password reset, scheduled by the delay model and applied when due (R8)', () => {
    const events = history(provisioned(), syncPass(2, at(40), [partialEntry(1, { pwdLastSet: [RESET] })]));
    expect(ofType(events.slice(-4), 'DirectoryChangeDetected')).toEqual([
      {
        type: 'DirectoryChangeDetected',
        data: {
          tenantId: TENANT_ID,
          changeId: change(2, 0),
          passId: passId(2),
          objectGuid: guid(1),
          kind: 'password-reset',
          upn: upn(1),
          previousUpn: null,
          disabled: false,
          pwdLastSet: RESET,
          userId,
          detectedAt: at(40).toISOString(),
          whenChanged: null,
        },
      },
    ]);
    expect(pendingChanges(fold(events))).toEqual([
      { changeId: change(2, 0), objectGuid: guid(1), dueAt: at(70).toISOString() },
    ]);
    given(...events)
      .when(applyChange(change(2, 0), new Date(at(70).getTime() - 1)))
      .thenRefuses(RuleViolationError, 'R8.not-yet-due');
    given(...events)
      .when(applyChange(change(2, 0), at(70)))
      .then({
        type: 'DirectoryChangeApplied',
        data: {
          changeId: change(2, 0),
          appliedAt: at(70).toISOString(),
          actions: [{ type: 'password-reset', userId, pwdLastSet: RESET }],
        },
      });
  });

  it('B6: "must change password at next logon" ticked (pwdLastSet 0) counts as a reset: fail closed', () => {
    const events = history(provisioned(), syncPass(2, at(40), [partialEntry(1, { pwdLastSet: ['0'] })]));
    expect(detected(events)).toEqual(['created', 'password-reset']);
  });

  it('B6: a full resync that reads the same pwdLastSet again resets nothing; one that reads another does', () => {
    const whole = (pwdLastSet: string) => userEntry(1, { pwdLastSet: [pwdLastSet], displayName: [] });
    given(...provisioned())
      .when(syncPass(2, at(40), [whole(SET_AT_HIRE)]))
      .then({
        type: 'SyncPassCompleted',
        data: {
          passId: passId(2),
          trigger: 'scheduled',
          entries: 1,
          changes: 0,
          issues: [],
          issueCount: 0,
          cookieStored: true,
          completedAt: at(40).toISOString(),
        },
      });
    const missed = history(provisioned(), syncPass(2, at(40), [whole(RESET)]));
    expect(detected(missed)).toEqual(['created', 'password-reset']);
  });

  it('B6: a pwdLastSet the entry does not carry (empty, or absent from a DirSync delta) keeps the baseline', () => {
    const events = history(
      provisioned(),
      syncPass(2, at(40), [partialEntry(1, { pwdLastSet: [] }), partialEntry(1, { displayName: ['A'] })]),
    );
    expect(detected(events)).toEqual(['created']);
    const state = fold(events);
    expect(state.status === 'connected' && state.mirror[guid(1)]?.pwdLastSet).toBe(SET_AT_HIRE);
  });

  it('B6: a pwdLastSet that is not a 64-bit integer is reported and believed in no part', () => {
    const { entry, issues } = readEntry(partialEntry(1, { pwdLastSet: ['yesterday'] }));
    expect(entry?.pwdLastSet).toBeUndefined();
    expect(issues).toEqual([{ objectGuid: guid(1), field: 'pwdLastSet', reason: 'not-a-64-bit-integer' }]);
    expect(readEntry(partialEntry(1, { pwdLastSet: ['9223372036854775808'] })).entry?.pwdLastSet).toBe(
      undefined,
    );
    expect(readEntry(partialEntry(1, { pwdLastSet: ['000134'] })).entry?.pwdLastSet).toBe('134');

    const events = history(provisioned(), syncPass(2, at(40), [partialEntry(1, { pwdLastSet: ['x'] })]));
    expect(detected(events)).toEqual(['created']);
  });

  it('B6: a disable and a reset in one pass do both, the reset first', () => {
    const events = history(
      provisioned(),
      syncPass(2, at(40), [partialEntry(1, { userAccountControl: ['514'], pwdLastSet: [RESET] })]),
    );
    // The account-state change is the last of the pass, the one that carries its state and lands.
    expect(detected(events)).toEqual(['created', 'password-reset', 'disabled']);
    given(...events)
      .when(applyChange(change(2, 1), at(70)))
      .then({
        type: 'DirectoryChangeApplied',
        data: {
          changeId: change(2, 1),
          appliedAt: at(70).toISOString(),
          actions: [
            { type: 'password-reset', userId, pwdLastSet: RESET },
            { type: 'disable', userId },
          ],
        },
      });
  });

  it('B6: a reset superseded before it lands (disabled in a later pass) still lands with the change that superseded it', () => {
    const events = history(
      provisioned(),
      syncPass(2, at(40), [partialEntry(1, { pwdLastSet: [RESET] })]),
      syncPass(3, at(50), [partialEntry(1, { userAccountControl: ['514'] })]),
    );
    expect(ofType(events, 'DirectoryChangeCancelled').map((event) => event.data)).toEqual([
      expect.objectContaining({ changeId: change(2, 0), reason: 'superseded', supersededBy: change(3, 0) }),
    ]);
    const applied = history(events, applyChange(change(3, 0), at(70)));
    expect(ofType(applied, 'DirectoryChangeApplied').at(-1)?.data.actions).toEqual([
      { type: 'password-reset', userId, pwdLastSet: RESET },
      { type: 'disable', userId },
    ]);
  });

  it('B6: a user reset before the cloud holds it arrives with the new password as its baseline', () => {
    const events = history(
      [directoryConnected()],
      syncPass(1, T0, [userEntry(1, { pwdLastSet: [SET_AT_HIRE] })]),
      syncPass(2, at(10), [partialEntry(1, { pwdLastSet: [RESET] })]),
      applyChange(change(2, 0), at(30)),
    );
    expect(ofType(events, 'DirectoryChangeApplied').map((event) => event.data.actions)).toEqual([
      [{ type: 'provision', userId, upn: upn(1), disabled: false, pwdLastSet: RESET }],
    ]);
  });
});

describe('B6: history recorded before pwdLastSet was read', () => {
  /** As an earlier version recorded it: no pwdLastSet in any entry, mirror, change or action. */
  const before = () =>
    history([directoryConnected()], syncPass(1, T0, [userEntry(1)]), applyChange(change(1, 0), at(30)));

  it('B6: old events without pwdLastSet fold (mirror and cloud without a baseline); the first pwdLastSet read of such a user is its baseline, the next change of it a reset', () => {
    const events = before();
    expect(JSON.stringify(events)).not.toContain('pwdLastSet');
    const old = fold(events);
    expect(old.status === 'connected' && old.mirror[guid(1)]).toEqual({
      upn: upn(1),
      disabled: false,
      deleted: false,
      inScope: true,
    });
    expect(old.status === 'connected' && old.cloud[guid(1)]).toEqual({
      userId,
      upn: upn(1),
      disabled: false,
      present: true,
      incarnation: 0,
    });

    const first = history(events, syncPass(2, at(40), [userEntry(1, { pwdLastSet: [SET_AT_HIRE] })]));
    expect(detected(first)).toEqual(['created']);
    const state = fold(first);
    expect(state.status === 'connected' && state.cloud[guid(1)]?.pwdLastSet).toBe(SET_AT_HIRE);

    const reset = history(
      first,
      syncPass(3, at(50), [partialEntry(1, { pwdLastSet: [RESET] })]),
      applyChange(change(3, 0), at(80)),
    );
    expect(ofType(reset, 'DirectoryChangeApplied').at(-1)?.data.actions).toEqual([
      { type: 'password-reset', userId, pwdLastSet: RESET },
    ]);
  });

  it('B6: a creation detected before pwdLastSet was read and applied after takes the baseline the mirror read meanwhile', () => {
    const pending = history(
      [directoryConnected()],
      syncPass(1, T0, [userEntry(1)]),
      syncPass(2, at(10), [userEntry(1, { pwdLastSet: [SET_AT_HIRE] })]),
    );
    expect(detected(pending)).toEqual(['created']);
    const applied = history(pending, applyChange(change(1, 0), at(30)));
    expect(ofType(applied, 'DirectoryChangeApplied').at(-1)?.data.actions).toEqual([
      { type: 'provision', userId, upn: upn(1), disabled: false },
    ]);
    const state = fold(applied);
    expect(state.status === 'connected' && state.cloud[guid(1)]?.pwdLastSet).toBe(SET_AT_HIRE);

    const reset = history(
      applied,
      syncPass(3, at(40), [partialEntry(1, { pwdLastSet: [RESET] })]),
      applyChange(change(3, 0), at(70)),
    );
    expect(ofType(reset, 'DirectoryChangeApplied').at(-1)?.data.actions).toEqual([
      { type: 'password-reset', userId, pwdLastSet: RESET },
    ]);
  });
});
