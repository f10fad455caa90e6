import { Injectable } from '@nestjs/common';
import {
  isUuid,
  NotFoundError,
  signInStreamIds,
  tenantStreamId,
  userStreamId,
} from '@latchkey/app-passwords';
import { DataSource } from 'typeorm';
import type { HistoricalEvent } from './history';
import { signInCheckAt, usernameAt, type SignInCheck } from './sign-in-check';
import { stateAt, type PointInTimeState, type SubjectHistory } from './state-at';

interface Row {
  seq: string;
  stream_id: string;
  version: number;
  type: string;
  data: unknown;
  occurred_at: Date;
  recorded_at: Date;
}

const COLUMNS = 'seq, stream_id, version, type, data, occurred_at, recorded_at';

const toEvent = (row: Row): HistoricalEvent => ({
  seq: String(row.seq),
  streamId: row.stream_id,
  version: row.version,
  type: row.type,
  data: row.data,
  occurredAt: row.occurred_at,
  recordedAt: row.recorded_at,
});

/** An unknown user and another tenant's answer alike (the access matrix compares them). */
const noSuchUser = () => new NotFoundError('user.not-found', 'There is no such user.');
const noSuchAppPassword = () => new NotFoundError('app-password.not-found', 'There is no such app password.');

/**
 * B4 over the events table: reads a user's and their tenant's streams (and, for lockout, the sign-in
 * attempts under the username), then answers with the pure folds. Used by the API and the CLI alike,
 * each with its own DataSource.
 */
@Injectable()
export class PointInTimeQueries {
  constructor(private readonly db: DataSource) {}

  async state(tenantId: string, userId: string, at: Date): Promise<PointInTimeState> {
    return stateAt(await this.subject(tenantId, userId), at);
  }

  async signInCheck(
    tenantId: string,
    userId: string,
    question: { appPasswordId: string; at: Date; protocol: string; clientIp?: string },
  ): Promise<SignInCheck> {
    const history = await this.subject(tenantId, userId);
    const appPasswordId = question.appPasswordId.toLowerCase();
    // Unknown is "never created on this user's stream", whenever: one created after the instant is
    // a fair question whose answer is "it did not exist yet".
    const known = history.userEvents.some(
      (event) =>
        event.type === 'AppPasswordCreated' &&
        (event.data as { appPasswordId?: string }).appPasswordId === appPasswordId,
    );
    if (!known) throw noSuchAppPassword();
    const username = usernameAt(history, question.at);
    const attempts =
      question.clientIp !== undefined && username !== undefined
        ? await this.attempts(tenantId, username, question.at)
        : [];
    return signInCheckAt(history, attempts, { ...question, appPasswordId });
  }

  /** The whole user stream and tenant stream; a user of another tenant is not found. */
  private async subject(tenantId: string, userId: string): Promise<SubjectHistory> {
    const tenant = tenantId.toLowerCase();
    const user = userId.toLowerCase();
    if (!isUuid(tenant) || !isUuid(user)) throw noSuchUser();
    const userEvents = await this.stream(userStreamId(user));
    const provisioned = userEvents.find((event) => event.type === 'UserProvisioned');
    if ((provisioned?.data as { tenantId?: string } | undefined)?.tenantId !== tenant) throw noSuchUser();
    return { userEvents, tenantEvents: await this.stream(tenantStreamId(tenant)) };
  }

  private async stream(streamId: string): Promise<HistoricalEvent[]> {
    const rows: Row[] = await this.db.query(
      `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version`,
      [streamId],
    );
    return rows.map(toEvent);
  }

  /**
   * B8: the attempts recorded under `username` before `at`. Lockout state is carried forward by
   * familiar networks and growing lock levels, so the whole history before the instant is read, not
   * a window; the sign-in streams are scanned for the username (no index on it).
   */
  private async attempts(tenantId: string, username: string, at: Date): Promise<HistoricalEvent[]> {
    const rows: Row[] = await this.db.query(
      `SELECT ${COLUMNS} FROM events
       WHERE stream_id = ANY($1::text[]) AND data ->> 'username' = $2 AND occurred_at < $3
       ORDER BY occurred_at, seq`,
      [signInStreamIds(tenantId.toLowerCase()), username, at],
    );
    return rows.map(toEvent);
  }
}
