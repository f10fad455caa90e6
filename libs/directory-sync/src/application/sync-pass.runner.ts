import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  readChangePages,
  type ChangePage,
  type ChangeReadMode,
  type DirectoryEntry,
  domainControllerIdentity,
  type StoredCookie,
  withDirectory,
} from '@latchkey/directory';
import { DataSource } from 'typeorm';
import { guidFromBytes, type DirectoryEntryInput, type SyncTrigger } from '../domain';
import { ChangeScheduler } from './change-scheduler';
import { DirectoryConnectionsStore, type DirectoryConnection } from './directory-connections.store';
import { DirectorySyncStreams } from './directory-sync.streams';

export interface PassOutcome {
  passId: string;
  entries: number;
  events: string[];
  /** How the directory was read: DirSync, or polling uSNChanged (asked for, or DirSync refused). */
  mode: ChangeReadMode;
}

/** What one pass read, and the cookie (DirSync) or watermark (uSN) to store with its events. */
interface DirectoryRead {
  identity: string;
  entries: DirectoryEntryInput[];
  cookie: Buffer;
  mode: ChangeReadMode;
}

/**
 * One delta pass over a tenant's directory, as Entra Connect's delta import: the changes since the
 * stored cookie (DirSync, or uSNChanged polling where the directory refuses DirSync), every page,
 * then the whole pass recorded at once (B9 counts a pass's deletions) with its new cookie and the
 * mode that wrote it, in the same transaction. A directory that fails mid-pass records nothing,
 * disables and deletes no one, and the next pass starts again from the last stored cookie.
 */
@Injectable()
export class SyncPassRunner {
  private readonly logger = new Logger(SyncPassRunner.name);

  constructor(
    private readonly db: DataSource,
    private readonly connections: DirectoryConnectionsStore,
    private readonly streams: DirectorySyncStreams,
    private readonly scheduler: ChangeScheduler,
  ) {}

  async run(tenantId: string, trigger: SyncTrigger, now: () => Date): Promise<PassOutcome> {
    const connection = await this.connections.find(tenantId);
    if (!connection) throw new Error(`tenant ${tenantId} has no directory connection`);
    const { identity, entries, cookie, mode } = await this.read(connection);

    const passId = randomUUID();
    const at = now();
    const { appended } = await this.streams.execute(
      tenantId,
      {
        type: 'RecordSyncPass',
        data: { tenantId, passId, trigger, entries, cookieStored: true },
        metadata: { now: at },
      },
      { tenantId, actor: { kind: 'sync-worker' } },
      at,
      async (tx) => {
        await tx.query(
          `INSERT INTO directory_sync_cookies (tenant_id, dc_identity, cookie, pass_id, stored_at, mode)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id) DO UPDATE SET dc_identity = $2, cookie = $3, pass_id = $4, stored_at = $5,
             mode = $6`,
          [tenantId, identity, cookie, passId, at, mode],
        );
      },
    );
    await this.scheduler.follow(tenantId, appended, at);
    const events = appended.map((e) => e.type);
    if (events.some((type) => type !== 'SyncPassCompleted')) {
      this.logger.log(
        `tenant ${tenantId}: pass ${passId} read ${entries.length} entries (${mode}): ${summary(events)}`,
      );
    }
    return { passId, entries: entries.length, events, mode };
  }

  /**
   * Reads every page the connection's change detection gives, from the cookie stored for this DC
   * (a cookie of another DC, or of the other mode, is not sent: that read starts from scratch).
   */
  private read(connection: DirectoryConnection): Promise<DirectoryRead> {
    const { tenantId } = connection;
    return withDirectory(connection, async (client) => {
      const identity = await domainControllerIdentity(client);
      const [row] = await this.db.query(
        `SELECT cookie, dc_identity, mode FROM directory_sync_cookies WHERE tenant_id = $1`,
        [tenantId],
      );
      const stored: StoredCookie | undefined =
        row?.dc_identity === identity ? { mode: row.mode, cookie: row.cookie } : undefined;
      const entries: DirectoryEntryInput[] = [];
      let last: ChangePage | undefined;
      for await (const page of readChangePages(
        client,
        connection.baseDn,
        connection.changeDetection,
        stored,
      )) {
        if (last === undefined) this.explain(tenantId, page, stored);
        entries.push(...page.entries.map(toEntryInput));
        last = page;
      }
      if (last === undefined) throw new Error('the directory read ended without a page');
      return { identity, entries, cookie: last.cookie, mode: last.mode };
    });
  }

  /** Says when a tenant's way of reading changes, or a poll must read everything again. */
  private explain(tenantId: string, page: ChangePage, stored: StoredCookie | undefined): void {
    if (page.dirSyncRefused !== undefined && stored?.mode !== 'usn') {
      this.logger.warn(
        `tenant ${tenantId}: the directory refuses DirSync (${page.dirSyncRefused}); polling uSNChanged instead`,
      );
    }
    if (page.cookieRefused !== undefined) {
      this.logger.warn(
        `tenant ${tenantId}: the directory refuses the stored DirSync cookie (${page.cookieRefused}): full resync`,
      );
    }
    if (page.mode === 'usn' && page.fullResync && stored?.mode === 'usn') {
      this.logger.warn(
        `tenant ${tenantId}: the stored uSN watermark belongs to another DC database (restored?): full resync`,
      );
    }
  }
}

function toEntryInput(entry: DirectoryEntry): DirectoryEntryInput {
  return { dn: entry.dn, objectGuid: guidFromBytes(entry.objectGuid), attributes: entry.attributes };
}

function summary(types: string[]): string {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, n]) => `${n} ${type}`).join(', ');
}
