import { ConflictError, NotFoundError } from '../../../app-passwords/src/domain';
import { delayModel } from './delay-model';
import { DirectorySyncCommand, MAX_APPLY_BATCH } from './directory-sync.commands';
import { HELD_CHUNK } from './directory-sync.events';
import { heldMassDeletions, pendingChanges } from './directory-sync.state';
import {
  at,
  directoryConnected,
  disabledEntry,
  FIXED_30_MIN,
  guid,
  passId,
  T0,
  TENANT_ID,
  tombstoneEntry,
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
  syncPass,
} from './testing/directory-sync.history';

const users = (...ns: number[]) => ns.map((n) => userEntry(n));
const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
const decide = (
  pass: number,
  type: 'ApproveMassDeletion' | 'RejectMassDeletion',
  now: Date,
): DirectorySyncCommand => ({
  type,
  data: { tenantId: TENANT_ID, passId: passId(pass) },
  metadata: { now },
});

/** Threshold 2; users 1–4 provisioned (pass 1 at T0, applied at T0+30). */
const fourUsers = () =>
  history(
    [directoryConnected({ deletionThreshold: 2 })],
    syncPass(1, T0, users(1, 2, 3, 4)),
    ...[0, 1, 2, 3].map((i) => applyChange(change(1, i), at(30))),
  );

describe('B9: accidental-delete guard in a pass', () => {
  it('B9: deleting exactly the threshold applies', () => {
    const events = history(fourUsers(), syncPass(2, at(40), [tombstoneEntry(1), tombstoneEntry(2)]));
    expect(ofType(events, 'MassDeletionHeld')).toEqual([]);
    expect(pendingChanges(fold(events))).toHaveLength(2);
  });

  it('B9: deleting more holds every deletion; the rest of the pass is scheduled', () => {
    const decided = given(...fourUsers())
      .when(syncPass(2, at(40), [tombstoneEntry(1), tombstoneEntry(2), tombstoneEntry(3), disabledEntry(4)]))
      .events();
    expect(ofType(decided, 'DirectoryChangeDetected')).toHaveLength(4);
    expect(ofType(decided, 'MassDeletionHeld').map((event) => event.data)).toEqual([
      {
        passId: passId(2),
        changeIds: [change(2, 0), change(2, 1), change(2, 2)],
        count: 3,
        threshold: 2,
        heldAt: at(40).toISOString(),
      },
    ]);
    expect(ofType(decided, 'DirectoryChangeScheduled').map((event) => event.data.changeId)).toEqual([
      change(2, 3),
    ]);
  });

  it('B9: deletions of users the cloud never got delete nobody, and do not count', () => {
    const events = history(
      [directoryConnected({ deletionThreshold: 0 })],
      syncPass(1, T0, users(1)),
      syncPass(2, at(5), [tombstoneEntry(1)]),
    );
    expect(ofType(events, 'MassDeletionHeld')).toEqual([]);
  });

  it('B9: a hold larger than one event should carry is split into events Kafka takes, all held', () => {
    const n = HELD_CHUNK * 2 + 1;
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const provisioned = history(
      [directoryConnected({ deletionThreshold: 10 })],
      syncPass(1, T0, users(...ids)),
    );
    const applied = history(
      provisioned,
      ...chunks(
        ids.map((_, i) => change(1, i)),
        MAX_APPLY_BATCH,
      ).map((batch) => applyChanges(batch, at(30))),
    );
    const decided = given(...applied)
      .when(syncPass(2, at(40), ids.map(tombstoneEntry)))
      .events();
    const holds = ofType(decided, 'MassDeletionHeld');
    expect(holds.map((event) => event.data.changeIds.length)).toEqual([HELD_CHUNK, HELD_CHUNK, 1]);
    for (const event of holds) {
      expect(event.data).toMatchObject({ passId: passId(2), count: n, threshold: 10 });
      // Kafka's default limit is 1 MB per message; keep each event far under it.
      expect(Buffer.byteLength(JSON.stringify(event.data))).toBeLessThan(256 * 1024);
    }
    const [hold] = heldMassDeletions(fold([...applied, ...decided]));
    expect(hold.changeIds).toEqual(ids.map((_, i) => change(2, i)));
  });

  const heldPass = () =>
    history(fourUsers(), syncPass(2, at(40), [tombstoneEntry(1), tombstoneEntry(2), tombstoneEntry(3)]));

  it('B9: held deletions are not pending: their users keep working until an admin decides (R8)', () => {
    const state = fold(heldPass());
    expect(pendingChanges(state)).toEqual([]);
    expect(heldMassDeletions(state)).toEqual([
      { passId: passId(2), changeIds: [change(2, 0), change(2, 1), change(2, 2)] },
    ]);
    given(...heldPass())
      .when(applyChange(change(2, 0), at(500)))
      .thenNothing();
  });

  it('B9: approval schedules them at their modelled instant, or at once when that has passed', () => {
    const soon = given(...heldPass())
      .when(decide(2, 'ApproveMassDeletion', at(50)))
      .events();
    expect(soon[0]).toEqual({
      type: 'MassDeletionApproved',
      data: { passId: passId(2), approvedAt: at(50).toISOString() },
    });
    expect(ofType(soon, 'DirectoryChangeScheduled').map((event) => event.data)).toEqual(
      [0, 1, 2].map((i) => ({
        changeId: change(2, i),
        dueAt: at(70).toISOString(),
        model: FIXED_30_MIN,
        reason: 'mass-deletion-approved',
      })),
    );
    const late = given(...heldPass())
      .when(decide(2, 'ApproveMassDeletion', at(300)))
      .events();
    expect(ofType(late, 'DirectoryChangeScheduled').map((event) => event.data.dueAt)).toEqual(
      [0, 1, 2].map(() => at(300).toISOString()),
    );
    const approved = history(heldPass(), decide(2, 'ApproveMassDeletion', at(300)));
    expect(
      ofType(history(approved, applyChange(change(2, 0), at(300))), 'DirectoryChangeApplied').at(-1)?.data
        .actions,
    ).toEqual([{ type: 'delete', userId: expect.any(String) }]);
  });

  it('B9: rejection cancels them; the cloud users stay', () => {
    given(...heldPass())
      .when(decide(2, 'RejectMassDeletion', at(50)))
      .then(
        { type: 'MassDeletionRejected', data: { passId: passId(2), rejectedAt: at(50).toISOString() } },
        ...[0, 1, 2].map((i) => ({
          type: 'DirectoryChangeCancelled' as const,
          data: {
            changeId: change(2, i),
            reason: 'mass-deletion-rejected' as const,
            supersededBy: null,
            cancelledAt: at(50).toISOString(),
          },
        })),
      );
  });

  it('B9: a decision is made once', () => {
    const approved = history(heldPass(), decide(2, 'ApproveMassDeletion', at(50)));
    given(...approved)
      .when(decide(2, 'ApproveMassDeletion', at(51)))
      .thenNothing();
    given(...approved)
      .when(decide(2, 'RejectMassDeletion', at(51)))
      .thenRefuses(ConflictError, 'B9.already-approved');
    const rejected = history(heldPass(), decide(2, 'RejectMassDeletion', at(50)));
    given(...rejected)
      .when(decide(2, 'RejectMassDeletion', at(51)))
      .thenNothing();
    given(...rejected)
      .when(decide(2, 'ApproveMassDeletion', at(51)))
      .thenRefuses(ConflictError, 'B9.already-rejected');
    given(...heldPass())
      .when(decide(9, 'ApproveMassDeletion', at(51)))
      .thenRefuses(NotFoundError, 'directory.hold-not-found');
  });

  it('B9: an object restored before approval supersedes its held deletion', () => {
    const restored = { ...userEntry(1), attributes: { ...userEntry(1).attributes, isDeleted: [] } };
    const events = history(heldPass(), syncPass(3, at(45), [restored]));
    expect(ofType(events, 'DirectoryChangeCancelled').map((event) => event.data.changeId)).toEqual([
      change(2, 0),
      changeIdsOf(events, guid(1)).at(-1),
    ]);
    expect(heldMassDeletions(fold(events))[0].changeIds).toEqual([change(2, 1), change(2, 2)]);
  });

  it('B9: the threshold is the tenant’s to change', () => {
    const command: DirectorySyncCommand = {
      type: 'ChangeDeletionThreshold',
      data: { tenantId: TENANT_ID, deletionThreshold: 10 },
      metadata: { now: at(50) },
    };
    const events = history(heldPass(), command);
    expect(fold(events)).toMatchObject({ deletionThreshold: 10 });
    given(...events)
      .when(command)
      .thenNothing();
  });
});

describe('B10: sync on demand', () => {
  const cycle = delayModel({ kind: 'cycle' });
  const connected = directoryConnected({ delayModel: cycle });

  it('B10: in the cycle model an on-demand pass is a manual delta cycle: its changes land after one processing', () => {
    const events = history([connected], syncPass(1, at(5), users(1), 'on-demand'));
    expect(ofType(events, 'DirectoryChangeScheduled').map((event) => event.data.dueAt)).toEqual([
      at(7).toISOString(),
    ]);
  });

  it('B10: and it carries everything still pending with it', () => {
    const events = history(
      [connected],
      syncPass(1, at(1), users(1)),
      syncPass(2, at(5), users(2), 'on-demand'),
    );
    const rescheduled = ofType(events, 'DirectoryChangeScheduled').filter(
      (event) => event.data.reason === 'on-demand-cycle',
    );
    expect(rescheduled.map((event) => event.data)).toEqual([
      { changeId: change(1, 0), dueAt: at(7).toISOString(), model: cycle, reason: 'on-demand-cycle' },
    ]);
    expect(pendingChanges(fold(events)).map((pending) => pending.dueAt)).toEqual([
      at(7).toISOString(),
      at(7).toISOString(),
    ]);
  });

  it('B10: a scheduled pass in the cycle model waits for the next cycle', () => {
    const events = history([connected], syncPass(1, at(5), users(1)));
    expect(ofType(events, 'DirectoryChangeScheduled')[0].data.dueAt).toBe(at(32).toISOString());
  });
});
