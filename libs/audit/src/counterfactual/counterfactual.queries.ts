import { Injectable } from '@nestjs/common';
import { signInStreamIds, userStreamId } from '@latchkey/app-passwords';
import {
  counterfactual,
  directorySyncStreamId,
  dueAt,
  exposureWindow,
  stopLandedAt,
  type DelayModel,
  type DirectoryChangeCancelled,
  type DirectoryChangeDetected,
  type ObservedChange,
  type SignInRecord,
} from '@latchkey/directory-sync';
import { DataSource } from 'typeorm';

/** Offboardings read per question: past it the report says it is partial rather than run for minutes. */
export const MAX_CHANGES = 5_000;
/** Sign-in attempts read per question, across every offboarded user. */
export const MAX_SIGN_INS = 200_000;
/** Supersession chains are followed this many links deep (a chain is one or two changes in practice). */
const MAX_CHAIN = 10;

const OFFBOARDING_KINDS = ['disabled', 'deleted'];

type Detected = DirectoryChangeDetected['data'];

interface Fate {
  dueAt: string | null;
  appliedAt: string | null;
  cancelled: DirectoryChangeCancelled['data'] | null;
}

export interface CounterfactualOffboarding {
  changeId: string;
  /** Later changes of the same object that superseded this one before it landed (it stopped with them). */
  supersededBy: string[];
  userId: string;
  upn: string;
  objectGuid: string;
  kind: string;
  timeline: {
    whenChanged: string | null;
    detectedAt: string;
    /** The due instant the actual model gave it (its last schedule). */
    scheduledDueAt: string | null;
    appliedAt: string | null;
    /** B2: the fast path's suspension, which stops the app passwords whatever the sync does. */
    suspendedAt: string | null;
  };
  actual: { from: string; until: string; open: boolean; windowMs: number; signIns: number };
  counterfactual: { dueAt: string; until: string; windowMs: number; signIns: number };
  /** Positive: the other model would have left the app passwords working longer. */
  windowDeltaMs: number;
  /** Positive: sign-ins that were refused would have succeeded; negative: successes that would have been refused. */
  signInDelta: number;
}

export interface CounterfactualAnswer {
  tenantId: string;
  from: string;
  to: string;
  model: DelayModel;
  /** Windows still open are measured up to this instant. */
  now: string;
  offboardings: CounterfactualOffboarding[];
  total: {
    offboardings: number;
    actualWindowMs: number;
    counterfactualWindowMs: number;
    windowDeltaMs: number;
    actualSignIns: number;
    counterfactualSignIns: number;
    signInDelta: number;
  };
  /** Detected disables and deletes that were not offboardings after all (re-enabled before landing…). */
  excluded: { changeId: string; reason: string }[];
  reads: {
    changes: { rows: number; cap: number; truncated: boolean };
    signIns: { rows: number; cap: number; truncated: boolean };
  };
}

const iso = (value: string | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();

/**
 * B5 over the events table: the offboardings detected in `[from, to)` (directory changes that
 * disabled or deleted a cloud user), their actual timeline, the user's app-password sign-ins and B2
 * suspensions, re-run by the domain's `counterfactual` under another delay model. Events only, used by
 * the API and the CLI alike, each with its own DataSource.
 *
 * Sign-ins read: every success, and the refusals for `account-disabled`. Verification checks the
 * credential before the account's status (sign-in.policy), so that refusal proves the secret matched
 * an active app password, which the recorder does not name: it is marked as matched (`appPasswordId`
 * `unrecorded`) so that a longer model counts it as a sign-in it would have let through. A deleted
 * account's refusals (`invalid-credentials`, its app passwords revoked) cannot be told from a wrong
 * password, so a longer model never counts them: the increase it reports is a lower bound.
 */
@Injectable()
export class CounterfactualQueries {
  constructor(private readonly db: DataSource) {}

  async report(
    tenantId: string,
    question: { from: Date; to: Date; model: DelayModel },
    now: Date,
  ): Promise<CounterfactualAnswer> {
    const stream = directorySyncStreamId(tenantId);
    const detectedRows: { data: Detected }[] = await this.db.query(
      `SELECT data FROM events
       WHERE stream_id = $1 AND type = 'DirectoryChangeDetected' AND data ->> 'kind' = ANY($2::text[])
         AND (data ->> 'detectedAt')::timestamptz >= $3 AND (data ->> 'detectedAt')::timestamptz < $4
       ORDER BY seq LIMIT $5`,
      [stream, OFFBOARDING_KINDS, question.from, question.to, MAX_CHANGES + 1],
    );
    const changesTruncated = detectedRows.length > MAX_CHANGES;
    const detected = detectedRows.slice(0, MAX_CHANGES).map((row) => row.data);

    const { details, fates } = await this.fates(stream, detected);
    const excluded: CounterfactualAnswer['excluded'] = [];
    const absorbed = new Set<string>();
    const chains = new Map<string, { supersededBy: string[]; appliedAt: string | null }>();
    for (const change of detected) {
      if (absorbed.has(change.changeId)) continue;
      if (change.userId === null) {
        excluded.push({ changeId: change.changeId, reason: 'no-cloud-user' });
        continue;
      }
      const chain = this.follow(change.changeId, details, fates);
      if ('excluded' in chain) {
        excluded.push({ changeId: change.changeId, reason: chain.excluded });
        continue;
      }
      chain.supersededBy.forEach((id) => absorbed.add(id));
      chains.set(change.changeId, chain);
    }
    const offboarded = detected.filter((change) => chains.has(change.changeId));

    const suspensions = await this.suspensions(offboarded.map((change) => change.userId!));
    const observed: ObservedChange[] = offboarded.map((change) => {
      const whenChanged = change.whenChanged ? new Date(change.whenChanged) : undefined;
      const detectedAt = new Date(change.detectedAt);
      const opens = Math.min(detectedAt.getTime(), whenChanged?.getTime() ?? Infinity);
      const appliedAt = chains.get(change.changeId)!.appliedAt;
      return {
        changeId: change.changeId,
        objectGuid: change.objectGuid,
        detectedAt,
        whenChanged,
        appliedAt: appliedAt ? new Date(appliedAt) : undefined,
        suspendedAt: suspendedFrom(suspensions.get(change.userId!) ?? [], opens),
        signIns: [],
      };
    });

    const { signIns, truncated: signInsTruncated } = await this.signIns(
      tenantId,
      offboarded,
      observed,
      question.model,
      now,
    );
    observed.forEach((change, i) => (change.signIns = signIns.get(offboarded[i].userId!) ?? []));

    const report = counterfactual(observed, question.model, now);
    const offboardings = report.changes.map((result, i): CounterfactualOffboarding => {
      const change = offboarded[i];
      const timeline = observed[i];
      const actual = exposureWindow(timeline, now);
      return {
        changeId: change.changeId,
        supersededBy: chains.get(change.changeId)!.supersededBy,
        userId: change.userId!,
        upn: change.upn,
        objectGuid: change.objectGuid,
        kind: change.kind,
        timeline: {
          whenChanged: iso(change.whenChanged),
          detectedAt: new Date(change.detectedAt).toISOString(),
          scheduledDueAt: iso(fates.get(change.changeId)?.dueAt),
          appliedAt: iso(chains.get(change.changeId)!.appliedAt),
          suspendedAt: timeline.suspendedAt?.toISOString() ?? null,
        },
        actual: {
          from: actual.from.toISOString(),
          until: result.actual.until.toISOString(),
          open: actual.open,
          windowMs: result.actual.windowMs,
          signIns: result.actual.signIns,
        },
        counterfactual: {
          dueAt: dueAt(question.model, timeline, { objectGuid: change.objectGuid }).toISOString(),
          until: result.counterfactual.until.toISOString(),
          windowMs: result.counterfactual.windowMs,
          signIns: result.counterfactual.signIns,
        },
        windowDeltaMs: result.windowDeltaMs,
        signInDelta: result.signInDelta,
      };
    });

    return {
      tenantId,
      from: question.from.toISOString(),
      to: question.to.toISOString(),
      model: report.model,
      now: now.toISOString(),
      offboardings,
      total: { offboardings: offboardings.length, ...report.total },
      excluded,
      reads: {
        changes: { rows: detected.length, cap: MAX_CHANGES, truncated: changesTruncated },
        signIns: {
          rows: [...signIns.values()].reduce((n, list) => n + list.length, 0),
          cap: MAX_SIGN_INS,
          truncated: signInsTruncated,
        },
      },
    };
  }

  /**
   * Each change's schedule, landing or cancellation, and the changes that superseded them (which may
   * have been detected after the period), read link by link.
   */
  private async fates(stream: string, detected: readonly Detected[]) {
    const details = new Map(detected.map((change) => [change.changeId, change]));
    const fates = new Map<string, Fate>();
    let wanted = [...details.keys()];
    for (let depth = 0; depth < MAX_CHAIN && wanted.length > 0; depth++) {
      const rows: { type: string; data: Record<string, unknown> & { changeId: string } }[] =
        await this.db.query(
          `SELECT type, data FROM events
           WHERE stream_id = $1 AND data ->> 'changeId' = ANY($2::text[])
             AND type IN ('DirectoryChangeDetected', 'DirectoryChangeScheduled',
                          'DirectoryChangeApplied', 'DirectoryChangeCancelled',
                          'DirectoryChangePartiallyApplied')
           ORDER BY seq`,
          [stream, wanted],
        );
      for (const { type, data } of rows) {
        const fate = fates.get(data.changeId) ?? { dueAt: null, appliedAt: null, cancelled: null };
        fates.set(data.changeId, fate);
        if (type === 'DirectoryChangeDetected') details.set(data.changeId, data as unknown as Detected);
        // A change is rescheduled (B9 approval, B10 on-demand cycle): its last schedule is the one that held.
        if (type === 'DirectoryChangeScheduled') fate.dueAt = data.dueAt as string;
        fate.appliedAt ??= stopLandedAt({ type, data }) ?? null;
        if (type === 'DirectoryChangeCancelled')
          fate.cancelled = data as unknown as DirectoryChangeCancelled['data'];
      }
      wanted = [...fates.values()]
        .map((fate) => fate.cancelled?.supersededBy)
        .filter((id): id is string => typeof id === 'string' && !fates.has(id));
    }
    return { details, fates };
  }

  /**
   * Where an offboarding's app passwords stopped by the sync: its own landing, or, when a later change
   * of the object superseded it before it landed (disabled, then deleted), that change's landing.
   */
  private follow(
    changeId: string,
    details: ReadonlyMap<string, Detected>,
    fates: ReadonlyMap<string, Fate>,
  ): { supersededBy: string[]; appliedAt: string | null } | { excluded: string } {
    const supersededBy: string[] = [];
    let current = changeId;
    for (;;) {
      const fate = fates.get(current);
      if (fate?.appliedAt) return { supersededBy, appliedAt: fate.appliedAt };
      if (!fate?.cancelled) return { supersededBy, appliedAt: null }; // still pending: the window is open
      const next = fate.cancelled.supersededBy;
      if (fate.cancelled.reason !== 'superseded' || next === null) return { excluded: fate.cancelled.reason };
      const successor = details.get(next);
      if (successor === undefined || supersededBy.length >= MAX_CHAIN)
        return { supersededBy, appliedAt: null };
      // Entra syncs state: a successor that leaves the account enabled undid the offboarding.
      if (!successor.disabled && successor.kind !== 'deleted') return { excluded: 're-enabled' };
      supersededBy.push(next);
      current = next;
    }
  }

  private async suspensions(userIds: readonly string[]) {
    const rows: { type: string; data: { userId: string; suspendedAt?: string; resumedAt?: string } }[] =
      userIds.length === 0
        ? []
        : await this.db.query(
            `SELECT type, data FROM events
             WHERE stream_id = ANY($1::text[]) AND type IN ('UserSignInsSuspended', 'UserSignInsResumed')
             ORDER BY seq`,
            [[...new Set(userIds)].map(userStreamId)],
          );
    const byUser = new Map<string, { suspended: boolean; at: number }[]>();
    for (const { type, data } of rows) {
      const list = byUser.get(data.userId) ?? [];
      const suspended = type === 'UserSignInsSuspended';
      list.push({ suspended, at: Date.parse((suspended ? data.suspendedAt : data.resumedAt)!) });
      byUser.set(data.userId, list);
    }
    return byUser;
  }

  /**
   * The user's recorded attempts from the earliest window's opening to the latest instant either
   * model could have kept a window open (the actual stop, or the other model's cap after detection).
   */
  private async signIns(
    tenantId: string,
    changes: readonly Detected[],
    observed: readonly ObservedChange[],
    model: DelayModel,
    now: Date,
  ): Promise<{ signIns: Map<string, SignInRecord[]>; truncated: boolean }> {
    const signIns = new Map<string, SignInRecord[]>();
    if (changes.length === 0) return { signIns, truncated: false };
    const opens = observed.map((c) => exposureWindow(c, now).from.getTime());
    const closes = observed.map((c) =>
      Math.max(exposureWindow(c, now).until.getTime(), c.detectedAt.getTime() + model.maxDelayMs),
    );
    const rows: {
      type: string;
      data: {
        userId: string;
        appPasswordId: string | null;
        clientIp: string;
        protocol: string;
        reason: string | null;
        attemptedAt: string;
      };
    }[] = await this.db.query(
      `SELECT type, data FROM events
       WHERE stream_id = ANY($1::text[]) AND data ->> 'userId' = ANY($2::text[])
         AND occurred_at >= $3 AND occurred_at <= $4
         AND (type = 'LegacySignInSucceeded'
              OR (type = 'LegacySignInFailed' AND data ->> 'reason' = 'account-disabled'))
       ORDER BY seq LIMIT $5`,
      [
        signInStreamIds(tenantId),
        [...new Set(changes.map((c) => c.userId!))],
        new Date(Math.min(...opens)),
        new Date(Math.max(...closes)),
        MAX_SIGN_INS + 1,
      ],
    );
    for (const { type, data } of rows.slice(0, MAX_SIGN_INS)) {
      const allowed = type === 'LegacySignInSucceeded';
      const list = signIns.get(data.userId) ?? [];
      list.push({
        at: new Date(data.attemptedAt),
        allowed,
        appPasswordId: allowed ? data.appPasswordId : 'unrecorded',
        clientIp: data.clientIp,
        protocol: data.protocol,
        refusal: data.reason ?? undefined,
      });
      signIns.set(data.userId, list);
    }
    return { signIns, truncated: rows.length > MAX_SIGN_INS };
  }
}

/**
 * B2: the suspension in force when the window opened, else the first one after it. A resumption
 * after that is not replayed (the domain takes a suspension as the stop).
 */
const suspendedFrom = (history: readonly { suspended: boolean; at: number }[], opens: number) => {
  const before = history.filter((h) => h.at <= opens).at(-1);
  if (before?.suspended) return new Date(before.at);
  const after = history.find((h) => h.suspended && h.at > opens);
  return after ? new Date(after.at) : undefined;
};
