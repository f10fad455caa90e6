import { randomUUID } from 'node:crypto';
import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PostgresEventStore } from '@latchkey/event-store';
import { DataSource } from 'typeorm';
import { recogniseAppPasswords, redactAppPasswords, userStreamId } from '../domain';
import { AppPasswordHasher } from '../infrastructure/app-password-hasher';
import { Clock } from '../infrastructure/clock';
import { RunUserCommand, type UserResult } from '../users/user-commands';

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

type Revocation = { tenantId: string; userId: string; appPasswordId: string };

/**
 * Every recognised app password, in the text and in what the reporter says about themselves (source,
 * User-Agent), is looked up by its keyed hash and revoked at once through its user's stream (reason
 * `leak-reported`); the report itself becomes an event naming who reported it and what it revoked,
 * never the text or the secrets: anything in the source or User-Agent that may be an app password,
 * whole or mistyped, is stored as `[app password]`.
 *
 * The report is recorded whenever a revocation of it committed, even if one failed or was not
 * confirmed afterwards (503 change-unconfirmed): the revocations carry its id, so who reported them
 * must not be lost. The first failure is answered after the report is appended.
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
    const candidates = recogniseAppPasswords(
      [text, reporter.source ?? '', reporter.userAgent ?? ''].join('\n'),
    );
    const hashes = candidates.map((candidate) => this.hasher.hash(candidate));
    const live: { app_password_id: string; user_id: string; tenant_id: string }[] = hashes.length
      ? await this.db.query(
          `SELECT app_password_id, user_id, tenant_id FROM credentials
           WHERE verifier_hash = ANY($1::bytea[]) AND revoked_at IS NULL`,
          [hashes],
        )
      : [];
    const revoked: Revocation[] = [];
    let failure: { error: unknown } | undefined;
    for (const credential of live) {
      const revocation = {
        tenantId: credential.tenant_id,
        userId: credential.user_id,
        appPasswordId: credential.app_password_id,
      };
      try {
        if (await this.revoke(revocation, reportId, reporter.clientIp)) revoked.push(revocation);
      } catch (error) {
        // The others are still revoked: each is a live secret in public.
        failure ??= { error };
        if (await this.revokedBy(reportId, revocation).catch(() => false)) revoked.push(revocation);
      }
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
            reporterUserAgent: storable(reporter.userAgent, 256),
            source: storable(reporter.source, 2048),
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
    if (failure) throw failure.error;
    return { reportId, recognised: candidates.length, revoked: revoked.length };
  }

  /** True if the revocation appended its event; false if the app password was already revoked. */
  private async revoke(revocation: Revocation, reportId: string, clientIp: string): Promise<boolean> {
    const { events }: UserResult = await this.commands.execute(
      new RunUserCommand(
        { type: 'RevokeLeakedAppPassword', data: { ...revocation, leakReportId: reportId } },
        {
          tenantId: revocation.tenantId,
          actor: { kind: 'reporter', id: clientIp },
          causationId: reportId,
        },
      ),
    );
    return events.length > 0;
  }

  /**
   * Did this report's revocation commit although its command failed? A failure after the commit
   * (the replicas' confirmation) leaves it in the user's stream.
   */
  private async revokedBy(reportId: string, { userId, appPasswordId }: Revocation): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM events WHERE stream_id = $1 AND type = 'AppPasswordRevoked'
         AND data ->> 'appPasswordId' = $2 AND data ->> 'leakReportId' = $3`,
      [userStreamId(userId), appPasswordId, reportId],
    );
    return rows.length > 0;
  }
}

/** What the reporter said about themselves, as kept: app passwords in it redacted, then cut. */
const storable = (value: string | null, maxLength: number): string | null =>
  value === null ? null : redactAppPasswords(value).slice(0, maxLength);
