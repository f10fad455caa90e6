import {
  ConflictError,
  NotFoundError,
  RuleViolationError,
  ValidationError,
} from '../../../app-passwords/src/domain';
import { delayModel } from './delay-model';
import { directorySyncStreamId } from './directory-sync.decider';
import { DirectorySyncCommand, MAX_APPLY_BATCH } from './directory-sync.commands';
import { DirectorySyncEvent } from './directory-sync.events';
import { dueChanges, pendingChanges } from './directory-sync.state';
import { syncedUserIdFor } from './name-based-uuid';
import {
  at,
  BASE_DN,
  directoryConnected,
  disabledEntry,
  enabledEntry,
  FIXED_30_MIN,
  guid,
  OTHER_TENANT_ID,
  partialEntry,
  passId,
  STAFF_OU,
  T0,
  TENANT_ID,
  tombstoneEntry,
  upn,
  userEntry,
} from './testing/fixtures';
import {
  applyChange,
  applyChanges,
  change,
  changeIdsOf,
  fold,
  given,
  history,
  ofType,
  syncedUserId,
  syncPass,
} from './testing/directory-sync.history';

const userId = syncedUserId(1);

/** Connected at T0 (fixed 30-minute delay); user 1 created at T0 and applied at T0+30. */
const provisioned = () =>
  history([directoryConnected()], syncPass(1, T0, [userEntry(1)]), applyChange(change(1, 0), at(30)));

describe('directory sync decider: connecting', () => {
  const connect = (data: Partial<Extract<DirectorySyncCommand, { type: 'ConnectDirectory' }>['data']> = {}) =>
    ({
      type: 'ConnectDirectory',
      data: {
        tenantId: TENANT_ID,
        url: 'ldaps://dc1.contoso.example:636',
        bindDn: `CN=Latchkey Sync,OU=Service,${BASE_DN}`,
        baseDn: BASE_DN,
        usersOnlyUnder: STAFF_OU,
        delayModel: { kind: 'fixed', delayMs: 30 * 60_000 },
        ...data,
      },
      metadata: { now: T0 },
    }) as DirectorySyncCommand;

  it('R8: records the connection with the complete delay model and B9 threshold, and no secret', () => {
    const command = connect();
    (command.data as Record<string, unknown>).bindPassword = 'Pa55w0rd!';
    const events = given().when(command).events();
    expect(events).toEqual([directoryConnected()]);
    expect(JSON.stringify(events)).not.toContain('Pa55w0rd!');
  });

  it('refuses plain LDAP, a bad DN, a bad model, and a second connection', () => {
    given()
      .when(connect({ url: 'ldap://dc1.contoso.example' }))
      .thenRefuses(ValidationError, 'directory.invalid-url');
    given()
      .when(connect({ url: 'ldaps://dc1.contoso.example:99999' }))
      .thenRefuses(ValidationError, 'directory.invalid-url');
    given()
      .when(connect({ bindDn: 'sync' }))
      .thenRefuses(ValidationError, 'directory.invalid-bind-dn');
    given()
      .when(connect({ usersOnlyUnder: 'OU=Staff,DC=fabrikam,DC=example' }))
      .thenRefuses(ValidationError, 'directory.invalid-scope');
    given()
      .when(connect({ delayModel: { kind: 'fixed' } }))
      .thenRefuses(ValidationError, 'delay-model.invalid');
    given(directoryConnected()).when(connect()).thenRefuses(ConflictError, 'directory.already-connected');
  });

  it('answers another tenant, or a tenant without a directory, as not connected', () => {
    given(directoryConnected())
      .when({ ...syncPass(1, T0, []), data: { ...syncPass(1, T0, []).data, tenantId: OTHER_TENANT_ID } })
      .thenRefuses(NotFoundError, 'directory.not-connected');
    given()
      .when(syncPass(1, T0, []))
      .thenRefuses(NotFoundError, 'directory.not-connected');
    expect(directorySyncStreamId(TENANT_ID)).toBe(`directory-sync-${TENANT_ID}`);
  });

  it('R8: a new delay model applies to later changes; scheduled ones keep their instants', () => {
    const events = history(
      [directoryConnected()],
      syncPass(1, T0, [userEntry(1)]),
      {
        type: 'ChangeDelayModel',
        data: { tenantId: TENANT_ID, delayModel: { kind: 'worst-case' } },
        metadata: { now: at(1) },
      },
      syncPass(2, at(2), [userEntry(2)]),
    );
    expect(pendingChanges(fold(events)).map((pending) => pending.dueAt)).toEqual([
      at(30).toISOString(),
      at(182).toISOString(),
    ]);
    given(...events)
      .when({
        type: 'ChangeDelayModel',
        data: { tenantId: TENANT_ID, delayModel: { kind: 'worst-case' } },
        metadata: { now: at(3) },
      })
      .thenNothing();
  });
});

describe('directory sync decider: a pass', () => {
  it('R8: a new user is detected and scheduled by the model; the pass records what it read', () => {
    given(directoryConnected())
      .when(syncPass(1, T0, [userEntry(1)]))
      .then(
        {
          type: 'DirectoryObjectsMirrored',
          data: {
            passId: passId(1),
            objects: [{ objectGuid: guid(1), upn: upn(1), disabled: false, deleted: false, inScope: true }],
          },
        },
        {
          type: 'DirectoryChangeDetected',
          data: {
            tenantId: TENANT_ID,
            changeId: change(1, 0),
            passId: passId(1),
            objectGuid: guid(1),
            kind: 'created',
            upn: upn(1),
            previousUpn: null,
            disabled: false,
            userId,
            detectedAt: T0.toISOString(),
            whenChanged: '2026-03-03T13:55:00.000Z',
          },
        },
        {
          type: 'DirectoryChangeScheduled',
          data: {
            changeId: change(1, 0),
            dueAt: at(30).toISOString(),
            model: FIXED_30_MIN,
            reason: 'detected',
          },
        },
        {
          type: 'SyncPassCompleted',
          data: {
            passId: passId(1),
            trigger: 'scheduled',
            entries: 1,
            changes: 1,
            issues: [],
            issueCount: 0,
            cookieStored: true,
            completedAt: T0.toISOString(),
          },
        },
      );
  });

  it('records a pass once: the same pass again decides nothing', () => {
    const events = history([directoryConnected()], syncPass(1, T0, [userEntry(1)]));
    given(...events)
      .when(syncPass(1, at(1), [userEntry(2)]))
      .thenNothing();
  });

  it('reports what it could not believe, by id and reason, never the value', () => {
    const events = given(directoryConnected())
      .when(syncPass(1, T0, [userEntry(1, { userPrincipalName: ['<script>@x'] }), disabledEntry(9)]))
      .events();
    const [completed] = ofType(events, 'SyncPassCompleted');
    expect(completed.data.issueCount).toBe(2);
    expect(JSON.stringify(completed.data.issues)).not.toContain('<script>');
  });

  it('refuses a malformed pass', () => {
    const pass = syncPass(1, T0, []);
    given(directoryConnected())
      .when({ ...pass, data: { ...pass.data, entries: 'all' as unknown as [] } })
      .thenRefuses(ValidationError, 'directory.invalid-pass');
    given(directoryConnected())
      .when({ ...pass, data: { ...pass.data, trigger: 'now' as 'scheduled' } })
      .thenRefuses(ValidationError, 'directory.invalid-trigger');
    given(directoryConnected())
      .when({ ...pass, data: { ...pass.data, passId: 'pass-1' } })
      .thenRefuses(ValidationError, 'id.invalid');
  });

  it('keeps its mirror in events: a user seen out of scope is created when it moves in', () => {
    const outside = { ...userEntry(1), dn: `CN=User 1,OU=Leavers,${BASE_DN}` };
    const events = history([directoryConnected()], syncPass(1, T0, [outside]));
    expect(ofType(events, 'DirectoryChangeDetected')).toEqual([]);
    const moved = given(...events)
      .when(syncPass(2, at(5), [partialEntry(1, {})]))
      .events();
    expect(ofType(moved, 'DirectoryChangeDetected').map((event) => event.data.kind)).toEqual(['created']);
  });
});

describe('directory sync decider: applying when due', () => {
  it('R8: before the due instant the change is refused, so app passwords keep working; at it, applied', () => {
    const events = history([directoryConnected()], syncPass(1, T0, [userEntry(1)]));
    const early = given(...events)
      .when(applyChange(change(1, 0), new Date(at(30).getTime() - 1)))
      .thenRefuses(RuleViolationError, 'R8.not-yet-due');
    expect(early.message).toContain(at(30).toISOString());
    given(...events)
      .when(applyChange(change(1, 0), at(30)))
      .then({
        type: 'DirectoryChangeApplied',
        data: {
          changeId: change(1, 0),
          appliedAt: at(30).toISOString(),
          actions: [{ type: 'provision', userId, upn: upn(1), disabled: false }],
        },
      });
  });

  it('R8: applying twice is impossible: the second decides nothing', () => {
    given(...provisioned())
      .when(applyChange(change(1, 0), at(31)))
      .thenNothing();
  });

  it('refuses an unknown change', () => {
    given(...provisioned())
      .when(applyChange(change(9, 0), at(31)))
      .thenRefuses(NotFoundError, 'directory-change.not-found');
  });

  it('R8: changes due at the same instant are applied in one decision, each recorded once', () => {
    const events = history(
      provisioned(),
      syncPass(2, at(40), [disabledEntry(1), userEntry(2), userEntry(3)]),
    );
    const ids = [change(2, 0), change(2, 1), change(2, 2)];
    given(...events)
      .when(applyChanges(ids, at(70)))
      .then(
        {
          type: 'DirectoryChangeApplied',
          data: { changeId: ids[0], appliedAt: at(70).toISOString(), actions: [{ type: 'disable', userId }] },
        },
        ...[2, 3].map((n, i): DirectorySyncEvent => ({
          type: 'DirectoryChangeApplied',
          data: {
            changeId: ids[i + 1],
            appliedAt: at(70).toISOString(),
            actions: [
              {
                type: 'provision',
                userId: syncedUserIdFor(TENANT_ID, guid(n), 0),
                upn: upn(n),
                disabled: false,
              },
            ],
          },
        })),
      );
    const applied = history(events, applyChanges(ids, at(70)));
    expect(pendingChanges(fold(applied))).toEqual([]);
    given(...applied)
      .when(applyChanges([...ids, ids[0]], at(71)))
      .thenNothing();
  });

  it('R8: one change of a batch not yet due refuses the whole batch: nothing lands early', () => {
    const events = history(
      [directoryConnected()],
      syncPass(1, T0, [userEntry(1)]),
      syncPass(2, at(10), [userEntry(2)]),
    );
    given(...events)
      .when(applyChanges([change(1, 0), change(2, 0)], at(30)))
      .thenRefuses(RuleViolationError, 'R8.not-yet-due');
    expect(dueChanges(fold(events), at(30)).map((due) => due.changeId)).toEqual([change(1, 0)]);
    expect(dueChanges(fold(events), at(40)).map((due) => due.changeId)).toEqual([change(1, 0), change(2, 0)]);
  });

  it('R8: a change superseded before its instant is not due; a batch naming it applies only the latest', () => {
    const events = history(
      provisioned(),
      syncPass(2, at(40), [disabledEntry(1)]),
      syncPass(3, at(50), [partialEntry(1, { userPrincipalName: ['alice@contoso.example'] })]),
    );
    expect(dueChanges(fold(events), at(80)).map((due) => due.changeId)).toEqual([change(3, 0)]);
    const decided = given(...events)
      .when(applyChanges([change(2, 0), change(3, 0)], at(80)))
      .events();
    expect(decided.map((event) => event.type)).toEqual(['DirectoryChangeApplied']);
    expect(ofType(decided, 'DirectoryChangeApplied')[0].data.changeId).toBe(change(3, 0));
  });

  it(`refuses an empty batch, and one of more than ${MAX_APPLY_BATCH} changes`, () => {
    given(...provisioned())
      .when(applyChanges([], at(31)))
      .thenRefuses(ValidationError, 'directory.invalid-batch');
    const many = Array.from({ length: MAX_APPLY_BATCH + 1 }, (_, i) => change(1, i));
    given(...provisioned())
      .when(applyChanges(many, at(31)))
      .thenRefuses(ValidationError, 'directory.invalid-batch');
  });

  it('R15: a disable on premises disables the cloud user at its due instant; a delete deletes it', () => {
    const disabled = history(provisioned(), syncPass(2, at(40), [disabledEntry(1)]));
    given(...disabled)
      .when(applyChange(change(2, 0), at(70)))
      .then({
        type: 'DirectoryChangeApplied',
        data: {
          changeId: change(2, 0),
          appliedAt: at(70).toISOString(),
          actions: [{ type: 'disable', userId }],
        },
      });
    const deleted = history(
      disabled,
      applyChange(change(2, 0), at(70)),
      syncPass(3, at(80), [tombstoneEntry(1)]),
    );
    expect(ofType(deleted, 'DirectoryChangeDetected').at(-1)?.data).toMatchObject({
      kind: 'deleted',
      userId,
    });
    given(...deleted)
      .when(applyChange(change(3, 0), at(110)))
      .then({
        type: 'DirectoryChangeApplied',
        data: {
          changeId: change(3, 0),
          appliedAt: at(110).toISOString(),
          actions: [{ type: 'delete', userId }],
        },
      });
  });

  it('R15: an object restored after its deletion landed comes back as a new user', () => {
    const events = history(
      provisioned(),
      syncPass(2, at(40), [tombstoneEntry(1)]),
      applyChange(change(2, 0), at(70)),
      syncPass(3, at(80), [{ ...userEntry(1), attributes: { ...userEntry(1).attributes, isDeleted: [] } }]),
    );
    const [restored] = ofType(events, 'DirectoryChangeDetected').slice(-1);
    expect(restored.data).toMatchObject({ kind: 'created', userId: syncedUserIdFor(TENANT_ID, guid(1), 1) });
  });
});

describe('directory sync decider: a later change supersedes an unapplied one (Entra syncs state)', () => {
  it('R8: disabled then enabled before the cycle: the cloud never sees the disable', () => {
    const events = history(provisioned(), syncPass(2, at(40), [disabledEntry(1)]));
    const decided = given(...events)
      .when(syncPass(3, at(50), [enabledEntry(1)]))
      .events();
    expect(decided.map((event) => event.type)).toEqual([
      'DirectoryObjectsMirrored',
      'DirectoryChangeDetected',
      'DirectoryChangeCancelled',
      'DirectoryChangeCancelled',
      'SyncPassCompleted',
    ]);
    expect(ofType(decided, 'DirectoryChangeCancelled').map((event) => event.data)).toEqual([
      {
        changeId: change(2, 0),
        reason: 'superseded',
        supersededBy: change(3, 0),
        cancelledAt: at(50).toISOString(),
      },
      {
        changeId: change(3, 0),
        reason: 'no-net-change',
        supersededBy: null,
        cancelledAt: at(50).toISOString(),
      },
    ]);
    const after = history(events, syncPass(3, at(50), [enabledEntry(1)]));
    expect(pendingChanges(fold(after))).toEqual([]);
    given(...after)
      .when(applyChange(change(2, 0), at(70)))
      .thenNothing();
  });

  it('R8: the latest change lands no later than the one it supersedes would have, carrying the latest state', () => {
    const events = history(
      [directoryConnected()],
      syncPass(1, T0, [userEntry(1)]),
      syncPass(2, at(10), [disabledEntry(1)]),
    );
    expect(ofType(events, 'DirectoryChangeScheduled').at(-1)?.data).toMatchObject({
      changeId: change(2, 0),
      dueAt: at(30).toISOString(),
    });
    given(...events)
      .when(applyChange(change(2, 0), at(30)))
      .then({
        type: 'DirectoryChangeApplied',
        data: {
          changeId: change(2, 0),
          appliedAt: at(30).toISOString(),
          actions: [{ type: 'provision', userId, upn: upn(1), disabled: true }],
        },
      });
  });

  it('a rename and a disable in one entry: one scheduled change applies both', () => {
    const entry = partialEntry(1, {
      userPrincipalName: ['alice@contoso.example'],
      userAccountControl: ['514'],
    });
    const events = history(provisioned(), syncPass(2, at(40), [entry]));
    expect(ofType(events, 'DirectoryChangeCancelled').map((event) => event.data)).toEqual([
      {
        changeId: change(2, 0),
        reason: 'superseded',
        supersededBy: change(2, 1),
        cancelledAt: at(40).toISOString(),
      },
    ]);
    const applied = given(...events)
      .when(applyChange(change(2, 1), at(70)))
      .events();
    expect(applied).toEqual([
      {
        type: 'DirectoryChangeApplied',
        data: {
          changeId: change(2, 1),
          appliedAt: at(70).toISOString(),
          actions: [
            { type: 'disable', userId },
            { type: 'rename', userId, upn: 'alice@contoso.example', previousUpn: upn(1) },
          ],
        },
      },
    ]);
  });

  describe('a change that lands in part (its rename refused)', () => {
    const renamedAndDisabled = () =>
      history(
        provisioned(),
        syncPass(2, at(40), [
          partialEntry(1, { userPrincipalName: ['alice@contoso.example'], userAccountControl: ['514'] }),
        ]),
      );
    const partly = (landed: number, now = at(70)): DirectorySyncCommand => ({
      type: 'RecordPartialApplication',
      data: { tenantId: TENANT_ID, changeId: change(2, 1), landed, failure: 'user.username-taken' },
      metadata: { now },
    });

    it('R15: the disable that landed is recorded; the change stays scheduled and its retry does only the rename', () => {
      const events = history(renamedAndDisabled(), partly(1));
      expect(ofType(events, 'DirectoryChangePartiallyApplied').map((event) => event.data)).toEqual([
        {
          changeId: change(2, 1),
          at: at(70).toISOString(),
          actions: [{ type: 'disable', userId }],
          failure: 'user.username-taken',
        },
      ]);
      expect(pendingChanges(fold(events)).map((pending) => pending.changeId)).toEqual([change(2, 1)]);
      expect(
        given(...events)
          .when(applyChange(change(2, 1), at(80)))
          .events(),
      ).toEqual([
        {
          type: 'DirectoryChangeApplied',
          data: {
            changeId: change(2, 1),
            appliedAt: at(80).toISOString(),
            actions: [{ type: 'rename', userId, upn: 'alice@contoso.example', previousUpn: upn(1) }],
          },
        },
      ]);
    });

    it('R15: re-enabled on premises before the rename could land, the user is enabled again in the cloud (regression: the cloud was thought never disabled, and stayed so)', () => {
      const events = history(
        renamedAndDisabled(),
        partly(1),
        syncPass(3, at(90), [partialEntry(1, { userPrincipalName: [upn(1)], userAccountControl: ['512'] })]),
      );
      const [pending] = pendingChanges(fold(events));
      expect(pending.changeId).toBe(change(3, 1));
      expect(
        given(...events)
          .when(applyChange(change(3, 1), at(130)))
          .events(),
      ).toEqual([
        {
          type: 'DirectoryChangeApplied',
          data: {
            changeId: change(3, 1),
            appliedAt: at(130).toISOString(),
            actions: [{ type: 'enable', userId }],
          },
        },
      ]);
    });

    it('refuses a count that is not some of the actions, and a failure that is not a code', () => {
      const events = renamedAndDisabled();
      for (const landed of [0, 2, 1.5]) {
        given(...events)
          .when(partly(landed))
          .thenRefuses(ValidationError, 'directory.invalid-partial-application');
      }
      given(...events)
        .when({
          ...partly(1),
          data: { ...partly(1).data, failure: 'refused: <script>' },
        } as DirectorySyncCommand)
        .thenRefuses(ValidationError, 'directory.invalid-failure');
    });
  });

  it('created and deleted before the cycle: nothing ever reaches the cloud', () => {
    const events = history(
      [directoryConnected()],
      syncPass(1, T0, [userEntry(1)]),
      syncPass(2, at(5), [tombstoneEntry(1)]),
    );
    expect(ofType(events, 'DirectoryChangeCancelled').map((event) => event.data.reason)).toEqual([
      'superseded',
      'no-net-change',
    ]);
    expect(pendingChanges(fold(events))).toEqual([]);
  });
});

describe('directory sync decider: pending changes survive Redis', () => {
  it('R8: pendingChanges lists every scheduled, unapplied change with its due instant, from events alone', () => {
    const events = history(
      [
        directoryConnected({
          delayModel: delayModel({ kind: 'uniform', minMs: 60_000, maxMs: 3_600_000, seed: 7 }),
        }),
      ],
      syncPass(
        1,
        T0,
        [1, 2, 3, 4].map((n) => userEntry(n)),
      ),
    );
    const pending = pendingChanges(fold(events));
    expect(pending).toHaveLength(4);
    expect(pending.map((p) => p.dueAt)).toEqual([...pending.map((p) => p.dueAt)].sort());
    expect(pending.map((p) => p.dueAt)).toEqual(
      [1, 2, 3, 4]
        .map(
          (n) =>
            ofType(events, 'DirectoryChangeScheduled').find(
              (s) => s.data.changeId === changeIdsOf(events, guid(n))[0],
            )!.data.dueAt,
        )
        .sort(),
    );
    const [first] = pending;
    const applied = history(events, applyChange(first.changeId, new Date(first.dueAt)));
    expect(pendingChanges(fold(applied)).map((p) => p.changeId)).not.toContain(first.changeId);
    given(...applied)
      .when(applyChange(first.changeId, new Date(first.dueAt)))
      .thenNothing();
  });

  it('R8: decides and folds a first sync of 10,000 users in linear time', () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => userEntry(i + 1));
    const events = history([directoryConnected()], syncPass(1, T0, entries));
    expect(ofType(events, 'DirectoryObjectsMirrored')).toHaveLength(10);
    expect(pendingChanges(fold(events))).toHaveLength(10_000);
  });
});
