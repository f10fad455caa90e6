import { randomUUID } from 'node:crypto';
import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PostgresEventStore } from '@latchkey/event-store';
import { DataSource } from 'typeorm';
import { recogniseAppPasswords } from '../domain';
import { AppPasswordHasher } from '../infrastructure/app-password-hasher';
import { Clock } from '../infrastructure/clock';
import { RunUserCommand } from '../users/user-commands';

/** B12: someone found text holding app passwords (a paste, a commit) and reports it, unauthenticated. */
export class ReportLeak {
  constructor(
    readonly text: string,
    readonly reporter: { clientIp: string; userAgent: string | null; source: string | null },
  ) {}
}

export interface LeakReportResult {
  reportId: string;
  /** Strings that carry a valid app-password checksum. */
  recognised: number;
  /** Of those, live app passwords now revoked. */
  revoked: number;
}

/**
 * Every recognised app password is looked up by its keyed hash and revoked at once through its
 * user's stream (reason `leak-reported`); the report itself becomes an event naming who reported it
 * and what was revoked, never the text or the secrets.
 */
@CommandHandler(ReportLeak)
export class ReportLeakHandler implements ICommandHandler<ReportLeak, LeakReportResult> {
  constructor(
    private readonly db: DataSource,
    private readonly store: PostgresEventStore,
    private readonly commands: CommandBus,
    private readonly hasher: AppPasswordHasher,
    private readonly clock: Clock,
  ) {}

  async execute({ text, reporter }: ReportLeak): Promise<LeakReportResult> {
    const reportId = randomUUID();
    const candidates = recogniseAppPasswords(text);
    const hashes = candidates.map((candidate) => this.hasher.hash(candidate));
    const live: { app_password_id: string; user_id: string; tenant_id: string }[] = hashes.length
      ? await this.db.query(
          `SELECT app_password_id, user_id, tenant_id FROM credentials
           WHERE verifier_hash = ANY($1::bytea[]) AND revoked_at IS NULL`,
          [hashes],
        )
      : [];
    const revoked: { tenantId: string; userId: string; appPasswordId: string }[] = [];
    for (const credential of live) {
      await this.commands.execute(
        new RunUserCommand(
          {
            type: 'RevokeLeakedAppPassword',
            data: {
              tenantId: credential.tenant_id,
              userId: credential.user_id,
              appPasswordId: credential.app_password_id,
              leakReportId: reportId,
            },
          },
          {
            tenantId: credential.tenant_id,
            actor: { kind: 'reporter', id: reporter.clientIp },
            causationId: reportId,
          },
        ),
      );
      revoked.push({
        tenantId: credential.tenant_id,
        userId: credential.user_id,
        appPasswordId: credential.app_password_id,
      });
    }
    await this.store.append({
      streamId: `leak-report-${reportId}`,
      streamType: 'leak-report',
      expectedVersion: 0,
      events: [
        {
          type: 'LeakReported',
          data: {
            reportId,
            reporterIp: reporter.clientIp,
            reporterUserAgent: reporter.userAgent?.slice(0, 256) ?? null,
            source: reporter.source?.slice(0, 2048) ?? null,
            recognised: candidates.length,
            revoked,
          },
        },
      ],
      context: {
        tenantId: null,
        actor: { kind: 'reporter', id: reporter.clientIp },
        occurredAt: this.clock.now(),
      },
    });
    return { reportId, recognised: candidates.length, revoked: revoked.length };
  }
}
