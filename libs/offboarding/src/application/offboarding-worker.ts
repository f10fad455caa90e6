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
import { OffboardingExecutor, type CarryOutOutcome } from './offboarding.executor';
import { OffboardingModule } from './offboarding.module';
import { OFFBOARDING_QUEUE, OffboardingScheduler, type CarryOutJob } from './offboarding.scheduler';

/** A job a little early (clocks of Redis and this process) waits for its instant, never acts before it. */
const MAX_EARLY_WAIT_MS = 5_000;

@Processor(OFFBOARDING_QUEUE)
export class CarryOutOffboardingProcessor {
  constructor(
    private readonly executor: OffboardingExecutor,
    private readonly clock: Clock,
  ) {}

  @Process()
  async carryOut(job: Job<CarryOutJob>): Promise<CarryOutOutcome> {
    const dueIn = job.timestamp + (job.opts.delay ?? 0) - this.clock.now().getTime();
    if (dueIn > 0 && dueIn <= MAX_EARLY_WAIT_MS) await new Promise((r) => setTimeout(r, dueIn));
    for (let waited = 0; ; waited += 50) {
      const outcome = await this.executor.carryOut(job.data.offboardingId);
      if (outcome !== 'not-yet-due') return outcome;
      if (waited >= MAX_EARLY_WAIT_MS) throw new Error('offboarding not yet due'); // retried by bull
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Re-creates, on start and then every sync interval, the offboarding jobs Redis lost. */
@Injectable()
export class OffboardingReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OffboardingReconciler.name);
  private readonly task: RepeatingTask;

  constructor(
    private readonly scheduler: OffboardingScheduler,
    config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.task = new RepeatingTask(() => this.reconcile(), config.sync.pollIntervalMs);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async reconcile(): Promise<number> {
    try {
      return await this.scheduler.reconcile(this.clock.now());
    } catch (error) {
      this.logger.warn(`offboarding jobs not reconciled: ${describeFailure(error)}`);
      return 0;
    }
  }
}

/** The sync worker's part of offboarding: delayed and retried jobs, and their reconciliation. */
@Module({
  imports: [OffboardingModule],
  providers: [CarryOutOffboardingProcessor, OffboardingReconciler],
  exports: [OffboardingReconciler],
})
export class OffboardingWorkerModule {}
