import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  readDirSyncPages,
  type DirectoryEntry,
  domainControllerIdentity,
  withDirectory,
} from '@latchkey/directory';
import { DataSource } from 'typeorm';
import { guidFromBytes, type DirectoryEntryInput, type SyncTrigger } from '../domain';
import { ChangeScheduler } from './change-scheduler';
import { DirectoryConnectionsStore } from './directory-connections.store';
import { DirectorySyncStreams } from './directory-sync.streams';

export interface PassOutcome {
  passId: string;
  entries: number;
  events: string[];
}

/**
 * One delta pass over a tenant's directory, as Entra Connect's delta import: DirSync from the
 * stored cookie, every page, then the whole pass recorded at once (B9 counts a pass's deletions)
 * with its new cookie in the same transaction. A directory that fails mid-pass records nothing,
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
    const { identity, entries, cookie } = await withDirectory(connection, async (client) => {
      const identity = await domainControllerIdentity(client);
      const [stored] = await this.db.query(
        `SELECT cookie, dc_identity FROM directory_sync_cookies WHERE tenant_id = $1`,
        [tenantId],
      );
      let cookie: Buffer | undefined = stored?.dc_identity === identity ? stored.cookie : undefined;
      const entries: DirectoryEntryInput[] = [];
      for await (const page of readDirSyncPages(client, connection.baseDn, cookie)) {
        entries.push(...page.entries.map(toEntryInput));
        cookie = page.cookie;
      }
      return { identity, entries, cookie };
    });

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
          `INSERT INTO directory_sync_cookies (tenant_id, dc_identity, cookie, pass_id, stored_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant_id) DO UPDATE SET dc_identity = $2, cookie = $3, pass_id = $4, stored_at = $5`,
          [tenantId, identity, cookie ?? Buffer.alloc(0), passId, at],
        );
      },
    );
    await this.scheduler.follow(tenantId, appended, at);
    const events = appended.map((e) => e.type);
    if (events.some((type) => type !== 'SyncPassCompleted')) {
      this.logger.log(
        `tenant ${tenantId}: pass ${passId} read ${entries.length} entries: ${summary(events)}`,
      );
    }
    return { passId, entries: entries.length, events };
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
