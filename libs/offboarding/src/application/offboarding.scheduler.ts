import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { isSettled } from '../domain/offboarding';
import { OffboardingStreams } from './offboarding.streams';

export const OFFBOARDING_QUEUE = 'hr-offboardings';

export interface CarryOutJob {
  offboardingId: string;
}

/** An offboarding carried out inline may still be running: reconcile leaves recent ones alone. */
const INLINE_GRACE_MS = 30_000;

/**
 * One bull delayed job per offboarding still to carry out (the offboarding id is the job id, so
 * scheduling twice makes one job), as ChangeScheduler does for directory changes. Redis only keeps
 * time: the effective instant is in the OffboardingRequested event, and `reconcile` re-creates from
 * PostgreSQL whatever Redis lost.
 */
@Injectable()
export class OffboardingScheduler {
  private readonly logger = new Logger(OffboardingScheduler.name);

  constructor(
    @InjectQueue(OFFBOARDING_QUEUE) private readonly queue: Queue<CarryOutJob>,
    private readonly db: DataSource,
    private readonly streams: OffboardingStreams,
  ) {}

  async schedule(offboardingId: string, effectiveAt: string, now: Date): Promise<void> {
    await this.queue.add(
      { offboardingId },
      {
        jobId: offboardingId,
        delay: Math.max(0, Date.parse(effectiveAt) - now.getTime()),
        attempts: 10,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: true,
      },
    );
  }

  /** Makes sure every offboarding not yet carried out has its job; returns how many were re-created. */
  async reconcile(now: Date): Promise<number> {
    const rows: { offboarding_id: string; effective_at: Date }[] = await this.db.query(
      `SELECT offboarding_id, effective_at FROM offboardings
       WHERE settled_at IS NULL AND (effective_at > $1 OR requested_at < $2)`,
      [now, new Date(now.getTime() - INLINE_GRACE_MS)],
    );
    let created = 0;
    for (const { offboarding_id: offboardingId, effective_at: effectiveAt } of rows) {
      if (isSettled(await this.streams.load(offboardingId))) continue; // the events are the truth
      const job = await this.queue.getJob(offboardingId);
      const state = await job?.getState();
      if (job && state !== 'failed' && state !== 'completed') continue;
      await job?.remove();
      await this.schedule(offboardingId, effectiveAt.toISOString(), now);
      created++;
    }
    if (created > 0) this.logger.log(`re-created ${created} pending offboarding job(s)`);
    return created;
  }
}
