import { InjectQueue } from '@nestjs/bull';
import { Body, Controller, Get, HttpCode, Module, NotFoundException, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import type { Queue } from 'bull';
import { CurrentPrincipal, Roles, type Principal } from '@latchkey/access';
import { Clock } from '@latchkey/app-passwords';
import { CHANGE_DETECTION_SETTINGS } from '@latchkey/directory';
import { CanonicalUuid, machineTextSchema, ZodBody } from '@latchkey/problems';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { heldMassDeletions, pendingChanges } from '../domain';
import { ChangeScheduler } from './change-scheduler';
import { ConnectDirectory } from './connect-directory';
import { DirectorySyncModule } from './directory-sync.modules';
import { DirectorySyncStreams } from './directory-sync.streams';
import { SYNC_REQUESTS_QUEUE, type SyncRequestJob } from './sync-requests';

/** A DN as RFC 4514 writes it: a control character is escaped (`\\00`), never sent raw. */
const dn = machineTextSchema(1, 1024);

const connectSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^ldaps:\/\/[^\s/]+(:\d{1,5})?\/?$/, 'must be ldaps://host[:port]: simple binds need TLS'),
    caPem: z
      .string()
      .max(64 * 1024)
      .includes('-----BEGIN CERTIFICATE-----'),
    bindDn: dn,
    /** Write-only: stored sealed, never returned. */
    bindPassword: z.string().min(1).max(256),
    baseDn: dn,
    /** HR offboarding writes disables and deletes to AD with this identity (write-only password). */
    writeBindDn: dn.optional(),
    writeBindPassword: z.string().min(1).max(256).optional(),
    usersOnlyUnder: dn.optional(),
    delayModel: z.record(z.string(), z.unknown()),
    deletionThreshold: z.number().int().min(0).max(1_000_000).optional(),
    changeDetection: z
      .enum(CHANGE_DETECTION_SETTINGS)
      .optional()
      .describe(
        'How changes are read: `dirsync` (the DirSync control, as Entra Connect), `usn` (polling ' +
          'uSNChanged with the show-deleted control, for directories that refuse DirSync) or `auto` ' +
          '(the default: DirSync, and polling for any pass whose DirSync the directory refuses).',
      ),
  })
  .refine((body) => (body.writeBindDn === undefined) === (body.writeBindPassword === undefined), {
    message: 'writeBindDn and writeBindPassword come together',
    path: ['writeBindPassword'],
  });

/** The documented body: the schema that validates it, so the two cannot drift apart. */
const connectBody = z.toJSONSchema(connectSchema, { target: 'openapi-3.0', io: 'input' });

/** A tenant admin connects the on-premises directory and watches its sync (R8, B9, B10). */
@ApiTags('directory')
@Controller('v1/directory')
export class DirectoryController {
  constructor(
    private readonly connect: ConnectDirectory,
    private readonly streams: DirectorySyncStreams,
    private readonly scheduler: ChangeScheduler,
    private readonly db: DataSource,
    private readonly clock: Clock,
    @InjectQueue(SYNC_REQUESTS_QUEUE) private readonly requests: Queue<SyncRequestJob>,
  ) {}

  @Put()
  @Roles('tenant-admin')
  @ApiBody({ schema: connectBody as object })
  async connectDirectory(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBody(connectSchema)) body: z.infer<typeof connectSchema>,
  ) {
    await this.connect.execute(principal.tenantId, body, this.context(principal), this.clock.now());
    return this.status(principal);
  }

  /** The connection (never its password), the last pass, pending propagations and held deletions. */
  @Get()
  @Roles('tenant-admin', 'auditor')
  async status(@CurrentPrincipal() principal: Principal) {
    const state = await this.streams.load(principal.tenantId);
    if (state.status !== 'connected') throw new NotFoundException('This tenant has no connected directory.');
    const [connection] = await this.db.query(
      `SELECT c.url, c.bind_dn, c.base_dn, c.change_detection, k.stored_at AS last_pass_at,
         k.pass_id AS last_pass_id, k.mode AS last_pass_mode
       FROM directory_connections c LEFT JOIN directory_sync_cookies k USING (tenant_id) WHERE c.tenant_id = $1`,
      [principal.tenantId],
    );
    return {
      url: connection?.url,
      bindDn: connection?.bind_dn,
      baseDn: state.baseDn,
      usersOnlyUnder: state.usersOnlyUnder,
      delayModel: state.delayModel,
      deletionThreshold: state.deletionThreshold,
      changeDetection: connection?.change_detection,
      lastPass: connection?.last_pass_at
        ? {
            passId: connection.last_pass_id,
            at: (connection.last_pass_at as Date).toISOString(),
            mode: connection.last_pass_mode,
          }
        : null,
      pending: pendingChanges(state),
      heldMassDeletions: heldMassDeletions(state),
    };
  }

  /** B10: a delta pass now, like Entra Connect's manual delta cycle. */
  @Post('sync')
  @HttpCode(202)
  @Roles('tenant-admin')
  async syncNow(@CurrentPrincipal() principal: Principal) {
    const job = await this.requests.add({ tenantId: principal.tenantId, requestedBy: principal.subject });
    return { requested: true, jobId: String(job.id) };
  }

  /** B9: a held pass's deletions go ahead… */
  @Post('mass-deletions/:passId/approve')
  @HttpCode(200)
  @Roles('tenant-admin')
  approve(@CurrentPrincipal() principal: Principal, @Param('passId', CanonicalUuid) passId: string) {
    return this.decideHold(principal, passId, 'ApproveMassDeletion');
  }

  /** …or are dropped, and the cloud users stay. */
  @Post('mass-deletions/:passId/reject')
  @HttpCode(200)
  @Roles('tenant-admin')
  reject(@CurrentPrincipal() principal: Principal, @Param('passId', CanonicalUuid) passId: string) {
    return this.decideHold(principal, passId, 'RejectMassDeletion');
  }

  private async decideHold(
    principal: Principal,
    passId: string,
    type: 'ApproveMassDeletion' | 'RejectMassDeletion',
  ) {
    const now = this.clock.now();
    const { appended } = await this.streams.execute(
      principal.tenantId,
      { type, data: { tenantId: principal.tenantId, passId }, metadata: { now } },
      this.context(principal),
      now,
    );
    await this.scheduler.follow(principal.tenantId, appended, now);
    return { events: appended.map((e) => e.type) };
  }

  private context(principal: Principal) {
    return { tenantId: principal.tenantId, actor: { kind: 'admin' as const, id: principal.subject } };
  }
}

/** The directory routes, for the API only. */
@Module({ imports: [DirectorySyncModule], controllers: [DirectoryController] })
export class DirectorySyncHttpModule {}
