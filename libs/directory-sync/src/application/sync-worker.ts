import { Process, Processor } from '@nestjs/bull';
import {
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Clock } from '@latchkey/app-passwords';
import { AppConfig } from '@latchkey/config';
import { describeFailure, RepeatingTask } from '@latchkey/runtime';
import type { Job } from 'bull';
import { DataSource } from 'typeorm';
import { ChangeApplier } from './change-applier';
import { ChangeScheduler, DIRECTORY_CHANGES_QUEUE, type ApplyDueChangesJob } from './change-scheduler';
import { DirectoryConnectionsStore } from './directory-connections.store';
import { DirectorySyncModule } from './directory-sync.modules';
import { DirectorySyncStreams } from './directory-sync.streams';
import { SYNC_REQUESTS_QUEUE, type SyncRequestJob } from './sync-requests';
import { SyncPassRunner } from './sync-pass.runner';

/**
 * Reads every connected directory on a schedule, one process per tenant at a time (a PostgreSQL
 * advisory lock held for the pass), and re-creates from the events any propagation job that
 * Redis lost.
 */
@Injectable()
export class SyncScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SyncScheduler.name);
  private readonly task: RepeatingTask;

  constructor(
    private readonly db: DataSource,
    config: AppConfig,
    private readonly connections: DirectoryConnectionsStore,
    private readonly streams: DirectorySyncStreams,
    private readonly scheduler: ChangeScheduler,
    private readonly runner: SyncPassRunner,
    private readonly clock: Clock,
  ) {
    this.task = new RepeatingTask(() => this.syncAll(), config.sync.pollIntervalMs);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async syncAll(): Promise<void> {
    for (const tenantId of await this.connections.tenants().catch(() => [])) {
      await this.syncTenant(tenantId, 'scheduled');
    }
  }

  /** Runs one pass for the tenant unless another process is running one; reconciles its jobs. */
  async syncTenant(tenantId: string, trigger: 'scheduled' | 'on-demand'): Promise<void> {
    const runner = this.db.createQueryRunner();
    try {
      await runner.connect();
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [
        `directory-sync:${tenantId}`,
      ]);
      if (!locked) return;
      try {
        await this.scheduler.reconcile(tenantId, await this.streams.load(tenantId), this.clock.now());
        await this.runner.run(tenantId, trigger, () => this.clock.now());
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`directory-sync:${tenantId}`]);
      }
    } catch (error) {
      // The directory (or a dependency) is away: nothing was recorded; the next round tries again.
      this.logger.warn(`tenant ${tenantId}: pass not completed: ${describeFailure(error)}`);
    } finally {
      await runner.release();
    }
  }
}

@Processor(DIRECTORY_CHANGES_QUEUE)
export class ApplyChangeProcessor {
  constructor(
    private readonly applier: ChangeApplier,
    private readonly clock: Clock,
  ) {}

  // Tenants apply in parallel; one tenant's jobs queue behind each other (the first applies all).
  @Process({ concurrency: 8 })
  async apply(job: Job<ApplyDueChangesJob>): Promise<number> {
    // Bull may promote a delayed job a little early: run then, and its changes, not yet due (R8),
    // would wait for the next reconcile.
    const early = Date.parse(job.data.dueAt) - this.clock.now().getTime();
    if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
    return this.applier.applyDue(job.data.tenantId, () => this.clock.now());
  }
}

@Processor(SYNC_REQUESTS_QUEUE)
export class SyncRequestProcessor {
  constructor(private readonly scheduler: SyncScheduler) {}

  @Process()
  async sync(job: Job<SyncRequestJob>): Promise<void> {
    await this.scheduler.syncTenant(job.data.tenantId, 'on-demand');
  }
}

/** The sync worker's part: scheduled passes, propagation jobs, on-demand passes (B10). */
@Module({
  imports: [DirectorySyncModule],
  providers: [SyncScheduler, ApplyChangeProcessor, SyncRequestProcessor],
  exports: [SyncScheduler],
})
export class DirectorySyncWorkerModule {}
