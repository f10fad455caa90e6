import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import type { EventEnvelope } from '@latchkey/event-store';
import { pendingChanges, type DirectorySyncState } from '../domain';

export const DIRECTORY_CHANGES_QUEUE = 'directory-changes';

export interface ApplyChangeJob {
  tenantId: string;
  changeId: string;
}

/**
 * Turns scheduled directory changes into bull delayed jobs, one per change (the change id is the
 * job id, so scheduling twice makes one job). Redis only keeps time: every due instant is an event
 * in PostgreSQL, and `reconcile` re-creates from the events whatever Redis lost.
 */
@Injectable()
export class ChangeScheduler {
  private readonly logger = new Logger(ChangeScheduler.name);

  constructor(@InjectQueue(DIRECTORY_CHANGES_QUEUE) private readonly queue: Queue<ApplyChangeJob>) {}

  /** Follows what a command appended: schedules new due instants, drops cancelled changes. */
  async follow(tenantId: string, appended: readonly EventEnvelope[], now: Date): Promise<void> {
    for (const event of appended) {
      const data = event.data as { changeId: string; dueAt?: string };
      if (event.type === 'DirectoryChangeScheduled')
        await this.schedule(tenantId, data.changeId, data.dueAt!, now);
      if (event.type === 'DirectoryChangeCancelled') await (await this.queue.getJob(data.changeId))?.remove();
    }
  }

  /** Makes sure every pending change of the tenant has its job; returns how many were re-created. */
  async reconcile(tenantId: string, state: DirectorySyncState, now: Date): Promise<number> {
    let created = 0;
    for (const change of pendingChanges(state)) {
      const job = await this.queue.getJob(change.changeId);
      const jobState = await job?.getState();
      if (job && jobState !== 'failed' && jobState !== 'completed') continue;
      // A completed job whose change is still pending means its apply did not land: run it again.
      await job?.remove();
      await this.schedule(tenantId, change.changeId, change.dueAt, now);
      created++;
    }
    if (created > 0) this.logger.log(`re-created ${created} pending propagation(s) of tenant ${tenantId}`);
    return created;
  }

  private async schedule(tenantId: string, changeId: string, dueAt: string, now: Date): Promise<void> {
    await this.queue.add(
      { tenantId, changeId },
      {
        jobId: changeId,
        delay: Math.max(0, Date.parse(dueAt) - now.getTime()),
        attempts: 10,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: true,
      },
    );
  }
}
