import type { Queue } from 'bull';
import type { EventEnvelope } from '@latchkey/event-store';
import {
  directoryConnected,
  FIXED_30_MIN,
  passId,
  T0,
  TENANT_ID,
  userEntry,
} from '../domain/testing/fixtures';
import { fold, history } from '../domain/testing/directory-sync.history';
import { applyJobId, ChangeScheduler, type ApplyDueChangesJob } from './change-scheduler';

type JobState = 'delayed' | 'waiting' | 'active' | 'completed' | 'failed';

/** Bull as far as the scheduler sees it: adding an id that exists, in any state, keeps the old job. */
class FakeQueue {
  readonly jobs = new Map<string, { data: ApplyDueChangesJob; delay: number; state: JobState }>();
  added = 0;

  async add(data: ApplyDueChangesJob, options: { jobId: string; delay: number }) {
    if (!this.jobs.has(options.jobId)) {
      this.jobs.set(options.jobId, { data, delay: options.delay, state: 'delayed' });
      this.added++;
    }
  }

  async getJob(id: string) {
    const job = this.jobs.get(id);
    return (
      job && {
        getState: async () => job.state,
        remove: async () => void this.jobs.delete(id),
      }
    );
  }
}

const DELAY = 30 * 60_000;
const DUE_AT = new Date(T0.getTime() + DELAY).toISOString();
const changeId = (n: number) => `c0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const scheduledAt = (dueAt: string, ...changes: number[]) =>
  changes.map(
    (n) =>
      ({
        type: 'DirectoryChangeScheduled',
        data: { changeId: changeId(n), dueAt, model: FIXED_30_MIN, reason: 'detected' },
      }) as unknown as EventEnvelope,
  );
/** Three users created at T0: three changes due at T0 + 30 min. */
const pending = () =>
  fold(
    history([directoryConnected()], {
      type: 'RecordSyncPass',
      data: {
        tenantId: TENANT_ID,
        passId: passId(1),
        trigger: 'scheduled',
        entries: [1, 2, 3].map((n) => userEntry(n)),
        cookieStored: true,
      },
      metadata: { now: T0 },
    }),
  );

describe('ChangeScheduler: one bull job per tenant and due instant', () => {
  const setUp = () => {
    const queue = new FakeQueue();
    return { queue, scheduler: new ChangeScheduler(queue as unknown as Queue<ApplyDueChangesJob>) };
  };
  const id = applyJobId(TENANT_ID, DUE_AT);

  it('R8: changes due at the same instant share one job, delayed until that instant; following twice adds none', async () => {
    const { queue, scheduler } = setUp();
    const appended = scheduledAt(DUE_AT, 1, 2, 3);
    await scheduler.follow(TENANT_ID, appended, T0);
    await scheduler.follow(TENANT_ID, appended, T0);
    expect([...queue.jobs]).toEqual([
      [id, { data: { tenantId: TENANT_ID, dueAt: DUE_AT }, delay: DELAY, state: 'delayed' }],
    ]);
    expect(queue.added).toBe(1);
  });

  it('a change scheduled at an instant whose job is running gets a second job, once', async () => {
    const { queue, scheduler } = setUp();
    await scheduler.follow(TENANT_ID, scheduledAt(DUE_AT, 1), T0);
    queue.jobs.get(id)!.state = 'active'; // it may have read the stream already
    const superseding = scheduledAt(DUE_AT, 2); // takes the instant of the change it supersedes
    await scheduler.follow(TENANT_ID, superseding, T0);
    await scheduler.follow(TENANT_ID, superseding, T0);
    expect([...queue.jobs.keys()]).toEqual([id, `${id}:${changeId(2)}`]);
  });

  it('R8: reconcile re-creates the lost or failed job of each instant still pending, and leaves live ones', async () => {
    const { queue, scheduler } = setUp();
    const state = pending();
    expect(await scheduler.reconcile(TENANT_ID, state, T0)).toBe(3); // Redis lost it: 3 changes' job
    expect(await scheduler.reconcile(TENANT_ID, state, T0)).toBe(0);
    for (const live of ['waiting', 'active'] as const) {
      queue.jobs.get(id)!.state = live;
      expect(await scheduler.reconcile(TENANT_ID, state, T0)).toBe(0);
    }
    for (const dead of ['completed', 'failed'] as const) {
      queue.jobs.get(id)!.state = dead; // yet its changes are pending: it did not land
      expect(await scheduler.reconcile(TENANT_ID, state, T0)).toBe(3);
      expect(queue.jobs.get(id)!.state).toBe('delayed');
    }
  });
});
