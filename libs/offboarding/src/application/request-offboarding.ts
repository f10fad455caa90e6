import { createHash, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '@latchkey/app-passwords';
import { ProblemError } from '@latchkey/problems';
import { describeFailure } from '@latchkey/runtime';
import { DataSource } from 'typeorm';
import type { OffboardedUserSource, OffboardingAction } from '../domain/offboarding';
import { OffboardingExecutor } from './offboarding.executor';
import { OffboardingScheduler } from './offboarding.scheduler';
import { OffboardingStreams } from './offboarding.streams';

export interface HrRequest {
  /** Normalised as accounts hold it (normaliseUsername). */
  username: string;
  action: OffboardingAction;
  effectiveAt?: string;
  reason?: string;
}

export interface HrRequestAnswer {
  offboardingId: string;
}

/**
 * Records an authenticated HR request once per idempotency key, then carries it out at once when it
 * is due (the answer follows the effect: a cloud-only user is refused as the 202 leaves) or leaves it
 * to a delayed job. The same key again answers the first answer and does nothing; the same key with
 * another body is refused, as Stripe does.
 */
@Injectable()
export class RequestOffboarding {
  private readonly logger = new Logger(RequestOffboarding.name);

  constructor(
    private readonly db: DataSource,
    private readonly streams: OffboardingStreams,
    private readonly executor: OffboardingExecutor,
    private readonly scheduler: OffboardingScheduler,
    private readonly clock: Clock,
  ) {}

  async execute(
    tenantId: string,
    idempotencyKey: string,
    rawBody: Buffer,
    body: HrRequest,
  ): Promise<HrRequestAnswer> {
    const requestHash = createHash('sha256').update(rawBody).digest('hex');
    const first = await this.firstAnswer(tenantId, idempotencyKey, requestHash);
    if (first) return first;

    const now = this.clock.now();
    const { username } = body;
    const [user] = await this.db.query(
      `SELECT user_id, source FROM accounts WHERE tenant_id = $1 AND username = $2 AND status <> 'deleted'`,
      [tenantId, username],
    );
    const effectiveAt = body.effectiveAt ? new Date(body.effectiveAt) : now;
    const offboardingId = randomUUID();
    const context = { tenantId, actor: { kind: 'hr' as const }, correlationId: offboardingId };
    try {
      await this.streams.execute(
        offboardingId,
        {
          type: 'RequestOffboarding',
          data: {
            tenantId,
            offboardingId,
            username,
            userId: user?.user_id ?? null,
            source: (user?.source as OffboardedUserSource | undefined) ?? null,
            action: body.action,
            effectiveAt: effectiveAt.toISOString(),
            requestedAt: now.toISOString(),
            idempotencyKey,
            reason: body.reason ?? null,
          },
        },
        context,
        now,
        requestHash,
      );
    } catch (error) {
      // The same key, sent twice at once: the other request recorded it first.
      const raced = await this.firstAnswer(tenantId, idempotencyKey, requestHash);
      if (raced) return raced;
      throw error;
    }

    if (effectiveAt.getTime() > now.getTime()) {
      await this.scheduler.schedule(offboardingId, effectiveAt.toISOString(), now);
    } else {
      try {
        await this.executor.carryOut(offboardingId);
      } catch (error) {
        // Recorded and accepted: the worker's job carries it out (with retries) when AD answers again.
        this.logger.warn(`offboarding ${offboardingId} not carried out yet: ${describeFailure(error)}`);
        await this.scheduler.schedule(offboardingId, effectiveAt.toISOString(), this.clock.now());
      }
    }
    return { offboardingId };
  }

  private async firstAnswer(
    tenantId: string,
    idempotencyKey: string,
    requestHash: string,
  ): Promise<HrRequestAnswer | undefined> {
    const [row] = await this.db.query(
      `SELECT offboarding_id, request_hash FROM offboardings WHERE tenant_id = $1 AND idempotency_key = $2`,
      [tenantId, idempotencyKey],
    );
    if (!row) return undefined;
    if (row.request_hash !== requestHash) {
      throw new ProblemError(422, 'idempotency-key-reused', 'Idempotency key reused', {
        detail: 'This Idempotency-Key was used for another request body.',
      });
    }
    return { offboardingId: row.offboarding_id };
  }
}
