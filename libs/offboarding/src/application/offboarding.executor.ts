import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Attribute, Change, type Client } from 'ldapts';
import { Clock, DomainError, RunUserCommand } from '@latchkey/app-passwords';
import { equalityFilter, withDirectory } from '@latchkey/directory';
import { ACCOUNT_DISABLE, DirectoryConnectionsStore } from '@latchkey/directory-sync';
import type { CommandContext } from '@latchkey/event-store';
import { DataSource } from 'typeorm';
import {
  isSettled,
  type OffboardingCommand,
  type OffboardingRejectionReason,
  type RequestedOffboarding,
} from '../domain/offboarding';
import { OffboardingStreams } from './offboarding.streams';

export type CarryOutOutcome = 'carried-out' | 'nothing-to-do' | 'not-yet-due';

/**
 * Carries out a requested offboarding once it is due. Every step is idempotent, and recorded only
 * after it is done, so a crash in between runs the job again harmlessly:
 * - cloud-only user: DisableUser/DeleteUser with origin `hr`, at once (the cloud is the authority);
 * - synced user: first B2's suspension when the tenant opted in (it must not wait for AD), then the
 *   change written to AD with the connection's write credential (read userAccountControl, set the
 *   disable bit; or delete the object). Directory sync brings it to the cloud later (R8).
 */
@Injectable()
export class OffboardingExecutor {
  private readonly logger = new Logger(OffboardingExecutor.name);

  constructor(
    private readonly streams: OffboardingStreams,
    private readonly commands: CommandBus,
    private readonly connections: DirectoryConnectionsStore,
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async carryOut(offboardingId: string): Promise<CarryOutOutcome> {
    const state = await this.streams.load(offboardingId);
    if (state.status !== 'requested' || isSettled(state)) return 'nothing-to-do';
    const { request } = state;
    if (this.clock.now().getTime() < Date.parse(request.effectiveAt)) return 'not-yet-due';
    const context: CommandContext = {
      tenantId: request.tenantId,
      actor: { kind: 'hr' },
      causationId: offboardingId,
      correlationId: offboardingId,
    };
    if (request.userId === null || request.source === null) {
      await this.record(offboardingId, reject(offboardingId, 'unknown-user', this.clock.now()), context);
    } else if (request.source === 'cloud') {
      await this.applyInCloud(state, request.userId, context);
    } else {
      await this.offboardSynced(state, request.userId, context);
    }
    return 'carried-out';
  }

  private async applyInCloud(state: RequestedOffboarding, userId: string, context: CommandContext) {
    const { tenantId, offboardingId, action } = state.request;
    try {
      await this.commands.execute(
        new RunUserCommand(
          {
            type: action === 'disable' ? 'DisableUser' : 'DeleteUser',
            data: { tenantId, userId, origin: 'hr' },
          },
          context,
        ),
      );
    } catch (error) {
      // Deleted meanwhile (by an admin): a disable has nothing left to do.
      if (error instanceof DomainError && error.code === 'R15.account-deleted') {
        await this.record(offboardingId, reject(offboardingId, 'already-deleted', this.clock.now()), context);
        return;
      }
      throw error;
    }
    const appliedAt = this.clock.now().toISOString();
    await this.record(
      offboardingId,
      { type: 'RecordApplied', data: { offboardingId, userId, action, appliedAt } },
      context,
    );
  }

  private async offboardSynced(state: RequestedOffboarding, userId: string, context: CommandContext) {
    const { tenantId, offboardingId, action, username } = state.request;
    if (state.fastPathAt === null && (await this.fastPathOn(tenantId))) {
      await this.commands.execute(
        new RunUserCommand(
          {
            type: 'SuspendSignIns',
            data: { tenantId, userId, origin: 'hr', reason: `HR offboarding ${offboardingId}` },
          },
          context,
        ),
      );
      const suspendedAt = this.clock.now().toISOString();
      await this.record(
        offboardingId,
        { type: 'RecordFastPath', data: { offboardingId, userId, suspendedAt } },
        context,
      );
    }

    const connection = await this.connections.find(tenantId);
    if (!connection?.writeBindDn || !connection.writeBindPassword) {
      const reason = 'directory-write-not-configured';
      await this.record(offboardingId, reject(offboardingId, reason, this.clock.now()), context);
      return;
    }
    const { writeBindDn: bindDn, writeBindPassword: bindPassword } = connection;
    const written = await withDirectory({ ...connection, bindDn, bindPassword }, (client) =>
      this.writeToDirectory(client, connection.baseDn, username, action),
    );
    if (written === 'not-found') {
      await this.record(offboardingId, reject(offboardingId, 'not-in-directory', this.clock.now()), context);
      return;
    }
    await this.record(
      offboardingId,
      {
        type: 'RecordWrittenToDirectory',
        data: { offboardingId, userId, action, dn: written.dn, at: written.at.toISOString() },
      },
      context,
    );
  }

  /**
   * Finds the user by UPN (escaped filter) and disables (read userAccountControl, then replace it
   * with the disable bit set) or deletes it. `at` is taken just before the write: B1's window opens
   * there, so a sign-in racing the write counts as exposed rather than being missed.
   */
  private async writeToDirectory(
    client: Client,
    baseDn: string,
    upn: string,
    action: 'disable' | 'delete',
  ): Promise<{ dn: string | null; at: Date } | 'not-found'> {
    const filter = `(&(objectCategory=person)(objectClass=user)${equalityFilter('userPrincipalName', upn)})`;
    const { searchEntries } = await client.search(baseDn, {
      scope: 'sub',
      filter,
      attributes: ['userAccountControl'],
      sizeLimit: 2,
    });
    if (searchEntries.length > 1) throw new Error('several directory objects carry this userPrincipalName');
    const [entry] = searchEntries;
    if (!entry) return action === 'delete' ? { dn: null, at: this.clock.now() } : 'not-found';
    const at = this.clock.now();
    if (action === 'delete') {
      await client.del(entry.dn);
      return { dn: entry.dn, at };
    }
    const uac = Number(
      Array.isArray(entry.userAccountControl) ? entry.userAccountControl[0] : entry.userAccountControl,
    );
    if (!Number.isInteger(uac)) throw new Error('the directory object has no readable userAccountControl');
    if ((uac & ACCOUNT_DISABLE) === 0) {
      const modification = new Attribute({
        type: 'userAccountControl',
        values: [String(uac | ACCOUNT_DISABLE)],
      });
      await client.modify(entry.dn, new Change({ operation: 'replace', modification }));
    }
    return { dn: entry.dn, at };
  }

  private async fastPathOn(tenantId: string): Promise<boolean> {
    const [row] = await this.db.query(`SELECT policy FROM tenants WHERE tenant_id = $1`, [tenantId]);
    return row?.policy?.fastPathOffboarding === true;
  }

  private async record(offboardingId: string, command: OffboardingCommand, context: CommandContext) {
    const { appended } = await this.streams.execute(offboardingId, command, context, this.clock.now());
    for (const event of appended) this.logger.log(`offboarding ${offboardingId}: ${event.type}`);
  }
}

const reject = (
  offboardingId: string,
  reason: OffboardingRejectionReason,
  now: Date,
): OffboardingCommand => ({
  type: 'Reject',
  data: { offboardingId, reason, rejectedAt: now.toISOString() },
});
