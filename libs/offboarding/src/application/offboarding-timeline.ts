import { Injectable } from '@nestjs/common';
import { Clock, NotFoundError, signInStreamIds } from '@latchkey/app-passwords';
import { directorySyncStreamId, exposure, stopLandedAt, type SignInRecord } from '@latchkey/directory-sync';
import { DataSource } from 'typeorm';
import type { OffboardingEvent } from '../domain/offboarding';
import { OffboardingStreams } from './offboarding.streams';

const iso = (value: Date | string | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();

/**
 * B1: an offboarding's timeline (requested, written to AD, detected, scheduled, applied, app
 * passwords stopped) and its exposure: the window from the on-premises change (our AD write, or the
 * change's whenChanged) to the moment app passwords stopped working, with every app-password sign-in
 * that succeeded inside it, from the tenant's sign-in stream.
 */
@Injectable()
export class OffboardingTimeline {
  constructor(
    private readonly streams: OffboardingStreams,
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async of(tenantId: string, offboardingId: string) {
    const envelopes = await this.streams.events(offboardingId);
    const first = envelopes[0];
    if (!first || first.tenantId !== tenantId) {
      throw new NotFoundError('offboarding.not-found', 'There is no such offboarding.');
    }
    const find = <T extends OffboardingEvent['type']>(type: T) =>
      envelopes.find((e) => e.type === type)?.data as
        Extract<OffboardingEvent, { type: T }>['data'] | undefined;
    const request = find('OffboardingRequested')!;
    const applied = find('OffboardingApplied');
    const written = find('OffboardingWrittenToDirectory');
    const fastPath = find('OffboardingFastPathApplied');
    const rejected = find('OffboardingRejected');

    const sync =
      request.source === 'synced' && request.userId ? await this.syncSteps(tenantId, request) : undefined;
    const stoppedCandidates = [applied?.appliedAt, sync?.appliedAt, fastPath?.suspendedAt]
      .filter((at): at is string => typeof at === 'string')
      .map((at) => Date.parse(at));
    const stoppedAt = stoppedCandidates.length > 0 ? new Date(Math.min(...stoppedCandidates)) : null;

    const timeline = {
      requestedAt: request.requestedAt,
      effectiveAt: request.effectiveAt,
      writtenToDirectoryAt: written?.at ?? null,
      detectedAt: sync?.detectedAt ?? null,
      scheduledAt: sync?.scheduledAt ?? null,
      dueAt: sync?.dueAt ?? null,
      appliedAt: applied?.appliedAt ?? sync?.appliedAt ?? null,
      fastPathSuspendedAt: fastPath?.suspendedAt ?? null,
      appPasswordsStoppedAt: iso(stoppedAt),
      rejected: rejected ? { reason: rejected.reason, at: rejected.rejectedAt } : null,
    };

    // The window opens at the on-premises change: our write to AD, else the change's whenChanged, else
    // (a cloud-only user) at the instant the cloud applied it, so it is empty.
    const opened = written?.at ?? sync?.whenChanged ?? sync?.detectedAt ?? applied?.appliedAt ?? null;
    const now = this.clock.now();
    const window =
      opened === null || request.userId === null
        ? null
        : exposure(
            {
              detectedAt: new Date(opened),
              appliedAt: applied?.appliedAt
                ? new Date(applied.appliedAt)
                : sync?.appliedAt
                  ? new Date(sync.appliedAt)
                  : undefined,
              suspendedAt: fastPath ? new Date(fastPath.suspendedAt) : undefined,
            },
            await this.signIns(tenantId, request.userId, new Date(opened), stoppedAt ?? now),
            now,
          );

    return {
      offboardingId,
      username: request.username,
      userId: request.userId,
      source: request.source,
      action: request.action,
      reason: request.reason,
      timeline,
      exposure: window && {
        from: window.from.toISOString(),
        until: window.until.toISOString(),
        open: window.open,
        stoppedBy: window.stoppedBy,
        durationMs: window.windowMs,
        signIns: window.signIns.map((s) => ({
          at: s.at.toISOString(),
          appPasswordId: s.appPasswordId,
          clientIp: s.clientIp,
          protocol: s.protocol,
        })),
      },
    };
  }

  /**
   * The sync's view of this user after the request: when it first detected the disable or delete,
   * and the fate of the change that carried it to the cloud. One pass can detect several changes of
   * one object (a rename or a reset, then the disable, each carrying the state after it); all but
   * the last are superseded and never applied, so the change followed is the first one applied, else
   * the first still pending, else the first detected.
   */
  private async syncSteps(
    tenantId: string,
    request: { userId: string | null; requestedAt: string; action: string },
  ) {
    const detected: { data: { changeId: string; detectedAt: string; whenChanged: string | null } }[] =
      await this.db.query(
        `SELECT data FROM events
         WHERE stream_id = $1 AND type = 'DirectoryChangeDetected' AND data ->> 'userId' = $2
           AND occurred_at >= $3 AND ((data ->> 'disabled')::boolean OR data ->> 'kind' = 'deleted')
         ORDER BY seq LIMIT 100`,
        [directorySyncStreamId(tenantId), request.userId, request.requestedAt],
      );
    if (detected.length === 0) return undefined;
    const changeIds = detected.map(({ data }) => data.changeId);
    const rows: { type: string; data: { changeId: string; dueAt?: string }; occurred_at: Date }[] =
      await this.db.query(
        `SELECT type, data, occurred_at FROM events
         WHERE stream_id = $1
           AND type IN ('DirectoryChangeScheduled', 'DirectoryChangeApplied', 'DirectoryChangeCancelled',
                        'DirectoryChangePartiallyApplied')
           AND data ->> 'changeId' = ANY($2::text[]) ORDER BY seq`,
        [directorySyncStreamId(tenantId), changeIds],
      );
    const fate = (changeId: string, type: string) =>
      rows.filter((r) => r.data.changeId === changeId && r.type === type);
    const landedAt = (changeId: string): string | undefined =>
      rows
        .filter((r) => r.data.changeId === changeId)
        .map(stopLandedAt)
        .find((at) => at !== undefined);
    const followed =
      changeIds.find((id) => landedAt(id) !== undefined) ??
      changeIds.find((id) => fate(id, 'DirectoryChangeCancelled').length === 0) ??
      changeIds[0];
    const first = detected[0].data;
    const scheduled = fate(followed, 'DirectoryChangeScheduled').at(-1);
    return {
      changeId: followed,
      detectedAt: first.detectedAt,
      whenChanged: first.whenChanged,
      scheduledAt: iso(scheduled?.occurred_at),
      dueAt: scheduled?.data.dueAt ?? null,
      appliedAt: landedAt(followed) ?? null,
    };
  }

  private async signIns(tenantId: string, userId: string, from: Date, until: Date): Promise<SignInRecord[]> {
    const rows: {
      data: { appPasswordId: string | null; clientIp: string; protocol: string; attemptedAt: string };
    }[] = await this.db.query(
      `SELECT data FROM events
         WHERE stream_id = ANY($1::text[]) AND type = 'LegacySignInSucceeded' AND data ->> 'userId' = $2
           AND occurred_at >= $3 AND occurred_at <= $4
         ORDER BY seq LIMIT 10000`,
      [signInStreamIds(tenantId), userId, from, until],
    );
    return rows.map(({ data }) => ({
      at: new Date(data.attemptedAt),
      allowed: true,
      appPasswordId: data.appPasswordId,
      clientIp: data.clientIp,
      protocol: data.protocol,
    }));
  }
}
