import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import type { EventEnvelope } from '@latchkey/event-store';
import { pendingChanges, type DirectorySyncState } from '../domain';

export const DIRECTORY_CHANGES_QUEUE = 'directory-changes';

/** Apply the tenant's changes that are due at `dueAt` (and any others due by then). */
export interface ApplyDueChangesJob {
  tenantId: string;
  dueAt: string;
}

/** One job per tenant and due instant: scheduling that instant again finds the same job. */
export const applyJobId = (tenantId: string, dueAt: string): string => `${tenantId}:${Date.parse(dueAt)}`;

/** Queued, or about to start: the job will read the stream after what was just appended. */
const WILL_READ = new Set(['delayed', 'waiting', 'paused']);

/**
 * Turns scheduled directory changes into bull delayed jobs, one per tenant and due instant: Entra
 * Connect's cycle gives every change of a cycle the same instant, and the job applies them
 * together. Redis only keeps time: every due instant is an event in PostgreSQL, and `reconcile`
 * re-creates from the events whatever Redis lost. A cancelled change leaves its instant's job in
 * place: when it fires it finds nothing, or only the other changes of that instant, to apply.
 */
@Injectable()
export class ChangeScheduler {
  private readonly logger = new Logger(ChangeScheduler.name);

  constructor(@InjectQueue(DIRECTORY_CHANGES_QUEUE) private readonly queue: Queue<ApplyDueChangesJob>) {}

  /** Follows what a command appended: makes sure each new due instant has a job that will see it. */
  async follow(tenantId: string, appended: readonly EventEnvelope[], now: Date): Promise<void> {
    const instants = new Map<number, string>();
    for (const event of appended) {
      if (event.type !== 'DirectoryChangeScheduled') continue;
      const { changeId, dueAt } = event.data as { changeId: string; dueAt: string };
      instants.set(Date.parse(dueAt), changeId);
    }
    for (const [at, changeId] of instants) {
      const dueAt = new Date(at).toISOString();
      const id = applyJobId(tenantId, dueAt);
      const state = await (await this.queue.getJob(id))?.getState();
      if (state !== undefined && WILL_READ.has(state)) continue;
      if (state === 'active') {
        // It may have read the stream before this change was appended (a superseding change takes
        // the earlier instant, which may be now): a second job for the instant, named after the
        // change so that following the same events twice still makes one.
        await this.add(tenantId, dueAt, `${id}:${changeId}`, now);
      } else {
        await this.replace(tenantId, dueAt, id, now);
      }
    }
  }

  /**
   * Makes sure every due instant of the tenant's pending changes has a job; returns how many
   * pending changes had none (their jobs re-created).
   */
  async reconcile(tenantId: string, state: DirectorySyncState, now: Date): Promise<number> {
    const byInstant = new Map<string, number>();
    for (const change of pendingChanges(state)) {
      byInstant.set(change.dueAt, (byInstant.get(change.dueAt) ?? 0) + 1);
    }
    let created = 0;
    for (const [dueAt, changes] of byInstant) {
      const id = applyJobId(tenantId, dueAt);
      const state = await (await this.queue.getJob(id))?.getState();
      // An active job applies everything due until it finds nothing left.
      if (state !== undefined && (WILL_READ.has(state) || state === 'active')) continue;
      // A completed or failed job whose changes are still pending did not land: run it again.
      await this.replace(tenantId, dueAt, id, now);
      created += changes;
    }
    if (created > 0) {
      this.logger.log(`re-created the jobs of ${created} pending propagation(s) of tenant ${tenantId}`);
    }
    return created;
  }

  /** Adds the job, first removing a completed or failed one of that id (bull would keep it instead). */
  private async replace(tenantId: string, dueAt: string, id: string, now: Date): Promise<void> {
    await (await this.queue.getJob(id))?.remove();
    await this.add(tenantId, dueAt, id, now);
  }

  private async add(tenantId: string, dueAt: string, jobId: string, now: Date): Promise<void> {
    await this.queue.add(
      { tenantId, dueAt },
      {
        jobId,
        delay: Math.max(0, Date.parse(dueAt) - now.getTime()),
        attempts: 10,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: true,
      },
    );
  }
}
