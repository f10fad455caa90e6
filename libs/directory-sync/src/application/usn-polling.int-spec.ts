import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bull';
import type { INestApplication } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Queue } from 'bull';
import { InsufficientAccessError } from 'ldapts';
import { RunTenantCommand, RunUserCommand } from '@latchkey/app-passwords';
import { decodeUsnWatermark, encodeUsnWatermark, type ChangeDetection } from '@latchkey/directory';
import { JobsModule } from '@latchkey/jobs';
import { DataSource } from 'typeorm';
import { samba, SambaAdmin } from '../../../directory/src/testing/samba-admin';
import { DIRECTORY_CHANGES_QUEUE } from './change-scheduler';
import { ConnectDirectory } from './connect-directory';
import { SyncPassRunner } from './sync-pass.runner';
import { DirectorySyncWorkerModule } from './sync-worker';
import { startIntegrationApp } from '../../../../test/integration-app';

/**
 * The sync worker reading the stack's Samba AD by polling uSNChanged instead of DirSync: the same
 * changes, detected and applied once each; a restored DC (another invocationId) read again in full
 * without detecting anything twice; and `auto` polling where the directory refuses DirSync.
 */
describe('directory sync by uSNChanged polling (real Samba AD, PostgreSQL, Redis)', () => {
  const DELAY_MS = 300;
  const runId = randomUUID().slice(0, 8);
  const realm = samba().realm.toLowerCase();
  const user = (role: string) => {
    const sam = `us${role}-${runId}`;
    return { sam, dn: `CN=${sam},${samba().usersOu}`, upn: `${sam}@${realm}` };
  };
  const changing = user('chg');
  const steady = user('keep');
  const latecomer = user('late');
  // An ordinary account (no "Replicating Directory Changes"), beside the sync account.
  const plain = {
    sam: `usplain-${runId}`,
    dn: `CN=usplain-${runId},${samba().sync.bindDn.slice(samba().sync.bindDn.indexOf(',') + 1)}`,
    password: '',
  };
  const tenants: string[] = [];
  let app: INestApplication;
  let db: DataSource;
  let queue: Queue;
  let runner: SyncPassRunner;
  let admin: SambaAdmin;

  const connect = async (
    changeDetection: ChangeDetection,
    account: { bindDn: string; bindPassword: string },
  ) => {
    const tenantId = randomUUID();
    tenants.push(tenantId);
    const ctx = { tenantId, actor: { kind: 'admin' as const } };
    await app
      .get(CommandBus)
      .execute(new RunTenantCommand({ type: 'CreateTenant', data: { tenantId, name: 'Polled' } }, ctx));
    const { url, caPem, baseDn, usersOu } = samba();
    await app.get(ConnectDirectory).execute(
      tenantId,
      {
        url,
        caPem,
        ...account,
        baseDn,
        usersOnlyUnder: usersOu,
        delayModel: { kind: 'fixed', delayMs: DELAY_MS },
        changeDetection,
      },
      ctx,
      new Date(),
    );
    return tenantId;
  };
  const pass = (tenantId: string) => runner.run(tenantId, 'scheduled', () => new Date());

  /** The changes detected for one object (by its UPN when first seen), in order, and how each ended. */
  const changesOf = async (tenantId: string, upn: string) => {
    const rows: { kind: string; upn: string; applied: number; cancelled: number }[] = await db.query(
      `WITH first AS (
         SELECT data ->> 'objectGuid' AS guid FROM events
         WHERE stream_id = $1 AND type = 'DirectoryChangeDetected' AND data ->> 'upn' = $2
         ORDER BY seq LIMIT 1)
       SELECT d.data ->> 'kind' AS kind, d.data ->> 'upn' AS upn,
         (SELECT count(*)::int FROM events a WHERE a.stream_id = $1 AND a.type = 'DirectoryChangeApplied'
            AND a.data ->> 'changeId' = d.data ->> 'changeId') AS applied,
         (SELECT count(*)::int FROM events c WHERE c.stream_id = $1 AND c.type = 'DirectoryChangeCancelled'
            AND c.data ->> 'changeId' = d.data ->> 'changeId') AS cancelled
       FROM events d JOIN first ON d.data ->> 'objectGuid' = first.guid
       WHERE d.stream_id = $1 AND d.type = 'DirectoryChangeDetected'
       ORDER BY d.seq`,
      [`directory-sync-${tenantId}`, upn],
    );
    return rows;
  };
  /** Waits until every change of the object is applied or cancelled. */
  const settled = async (tenantId: string, upn: string) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const changes = await changesOf(tenantId, upn);
      if (changes.length > 0 && changes.every((c) => c.applied + c.cancelled > 0)) return changes;
      if (Date.now() > deadline)
        throw new Error(`the changes of ${upn} did not settle: ${JSON.stringify(changes)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const storedCookie = async (tenantId: string): Promise<{ mode: string; cookie: Buffer } | undefined> =>
    (await db.query(`SELECT mode, cookie FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]))[0];
  const appliedOnce = (kinds: string[]) =>
    kinds.map((kind) => expect.objectContaining({ kind, applied: 1, cancelled: 0 }));

  beforeAll(async () => {
    process.env.SYNC_POLL_INTERVAL_MS = String(3_600_000); // passes run when the test says
    process.env.REDIS_PREFIX = `latchkey-test-${runId}`;
    app = await startIntegrationApp(JobsModule, DirectorySyncWorkerModule);
    db = app.get(DataSource);
    queue = app.get(getQueueToken(DIRECTORY_CHANGES_QUEUE));
    runner = app.get(SyncPassRunner);
    admin = await SambaAdmin.connect();
    await admin.createUser(changing.dn, changing.sam, changing.upn);
    await admin.createUser(steady.dn, steady.sam, steady.upn);
    plain.password = await admin.createUser(plain.dn, plain.sam, `${plain.sam}@${realm}`);
  }, 60_000);

  afterAll(async () => {
    for (const dn of [changing.dn, steady.dn, latecomer.dn, plain.dn]) await admin?.deleteIfPresent(dn);
    await admin?.close();
    for (const tenantId of tenants) {
      await db?.query(`DELETE FROM directory_sync_cookies WHERE tenant_id = $1`, [tenantId]);
      await db?.query(`DELETE FROM directory_connections WHERE tenant_id = $1`, [tenantId]);
    }
    await queue?.obliterate({ force: true });
    await app?.close();
  }, 60_000);

  describe('with changeDetection usn, as the sync account', () => {
    let tenantId: string;
    let wholeDirectory: number;

    beforeAll(async () => {
      tenantId = await connect('usn', samba().sync);
    });

    it('R8: a first poll provisions each new user once, and stores a uSN watermark of this DC', async () => {
      const outcome = await pass(tenantId);

      expect(outcome.mode).toBe('usn');
      wholeDirectory = outcome.entries;
      expect(await settled(tenantId, changing.upn)).toEqual(appliedOnce(['created']));
      expect(await settled(tenantId, steady.upn)).toEqual(appliedOnce(['created']));
      const stored = await storedCookie(tenantId);
      expect(stored?.mode).toBe('usn');
      expect(decodeUsnWatermark(stored?.cookie)).toEqual({
        invocationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        usn: expect.any(BigInt),
      });
    });

    it('R15: disable, enable, rename (UPN change) and delete are each detected and applied once', async () => {
      await admin.setDisabled(changing.dn, true);
      await pass(tenantId);
      expect(await settled(tenantId, changing.upn)).toEqual(appliedOnce(['created', 'disabled']));

      await admin.setDisabled(changing.dn, false);
      await pass(tenantId);
      expect(await settled(tenantId, changing.upn)).toEqual(appliedOnce(['created', 'disabled', 'enabled']));

      const renamed = `usren-${runId}@${realm}`;
      await admin.setUpn(changing.dn, renamed);
      const rename = await pass(tenantId);
      expect(rename.entries).toBeLessThan(wholeDirectory); // a delta, not the whole directory
      expect(await settled(tenantId, changing.upn)).toEqual([
        ...appliedOnce(['created', 'disabled', 'enabled']),
        expect.objectContaining({ kind: 'renamed', upn: renamed, applied: 1 }),
      ]);

      await admin.deleteIfPresent(changing.dn);
      await pass(tenantId);
      expect((await settled(tenantId, changing.upn)).map((c) => [c.kind, c.applied])).toEqual([
        ['created', 1],
        ['disabled', 1],
        ['enabled', 1],
        ['renamed', 1],
        ['deleted', 1],
      ]);
      expect(await changesOf(tenantId, steady.upn)).toEqual(appliedOnce(['created']));
    }, 90_000);

    it('a pass with nothing changed detects nothing again', async () => {
      await pass(tenantId);
      expect((await changesOf(tenantId, changing.upn)).map((c) => c.kind)).toHaveLength(5);
      expect(await changesOf(tenantId, steady.upn)).toEqual(appliedOnce(['created']));
    });

    it('a watermark of another invocationId (a restored DC) means a full resync that detects nothing twice', async () => {
      const stored = await storedCookie(tenantId);
      const { invocationId, usn } = decodeUsnWatermark(stored?.cookie) as {
        invocationId: string;
        usn: bigint;
      };
      await db.query(`UPDATE directory_sync_cookies SET cookie = $2 WHERE tenant_id = $1`, [
        tenantId,
        encodeUsnWatermark({ invocationId: randomUUID(), usn }),
      ]);

      const resync = await pass(tenantId);

      expect(resync.entries).toBeGreaterThanOrEqual(wholeDirectory); // the whole directory again
      expect((await changesOf(tenantId, changing.upn)).map((c) => c.kind)).toEqual([
        'created',
        'disabled',
        'enabled',
        'renamed',
        'deleted',
      ]);
      expect(await changesOf(tenantId, steady.upn)).toEqual(appliedOnce(['created']));
      expect(decodeUsnWatermark((await storedCookie(tenantId))?.cookie)?.invocationId).toBe(invocationId);
    });
  });

  describe('with changeDetection auto, as an account the directory refuses DirSync', () => {
    let tenantId: string;

    beforeAll(async () => {
      tenantId = await connect('auto', { bindDn: plain.dn, bindPassword: plain.password });
    });

    it('each pass polls uSNChanged, records that it did, and resumes from its own watermark', async () => {
      const first = await pass(tenantId);
      expect(first.mode).toBe('usn');
      expect((await storedCookie(tenantId))?.mode).toBe('usn');

      await admin.createUser(latecomer.dn, latecomer.sam, latecomer.upn);
      const delta = await pass(tenantId);

      expect(delta.mode).toBe('usn');
      expect(delta.entries).toBeLessThan(first.entries); // from the watermark, not from scratch
      expect(await settled(tenantId, latecomer.upn)).toEqual(appliedOnce(['created']));
      await pass(tenantId);
      expect(await changesOf(tenantId, latecomer.upn)).toEqual(appliedOnce(['created']));
    });
  });

  describe('with changeDetection dirsync, as an account the directory refuses DirSync', () => {
    it('the pass fails and records nothing: no fallback was asked for', async () => {
      const tenantId = await connect('dirsync', { bindDn: plain.dn, bindPassword: plain.password });

      await expect(pass(tenantId)).rejects.toBeInstanceOf(InsufficientAccessError);
      expect(await storedCookie(tenantId)).toBeUndefined();
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'SyncPassCompleted'`,
        [`directory-sync-${tenantId}`],
      );
      expect(n).toBe(0);
    });
  });

  it('R8: a synced user whose UPN a cloud-only user already holds is not recorded as provisioned; the change stays pending', async () => {
    const collider = user('clash');
    const tenantId = await connect('usn', samba().sync);
    const cloudUserId = randomUUID();
    await app.get(CommandBus).execute(
      new RunUserCommand(
        {
          type: 'ProvisionUser',
          data: { tenantId, userId: cloudUserId, username: collider.upn, source: 'cloud', origin: 'admin' },
        },
        { tenantId, actor: { kind: 'admin' } },
      ),
    );
    await admin.createUser(collider.dn, collider.sam, collider.upn);
    try {
      await pass(tenantId);
      // Well past its due instant (DELAY_MS) and a first retry of its job.
      await new Promise((resolve) => setTimeout(resolve, DELAY_MS + 2_500));
      expect(await changesOf(tenantId, collider.upn)).toEqual([
        expect.objectContaining({ kind: 'created', applied: 0, cancelled: 0 }),
      ]);
      const accounts = await db.query(
        `SELECT user_id, source FROM accounts WHERE tenant_id = $1 AND username = $2`,
        [tenantId, collider.upn],
      );
      expect(accounts).toEqual([{ user_id: cloudUserId, source: 'cloud' }]);
    } finally {
      await admin.deleteIfPresent(collider.dn);
    }
  }, 30_000);
});
