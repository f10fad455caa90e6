import {
  CHANGE_DETECTION_SETTINGS,
  DEFAULT_CHANGE_DETECTION,
  domainControllerIdentity,
  withDirectory,
  type ChangeDetection,
} from '@latchkey/directory';
import { Injectable } from '@nestjs/common';
import { ValidationError } from '@latchkey/app-passwords';
import { describeFailure } from '@latchkey/runtime';
import type { CommandContext } from '@latchkey/event-store';
import { ChangeScheduler } from './change-scheduler';
import { DirectoryConnectionsStore, type DirectoryConnection } from './directory-connections.store';
import { DirectorySyncStreams } from './directory-sync.streams';

export interface ConnectDirectoryInput extends Omit<DirectoryConnection, 'tenantId' | 'changeDetection'> {
  /** `auto` when left out. */
  changeDetection?: ChangeDetection;
  usersOnlyUnder?: string;
  delayModel: unknown;
  deletionThreshold?: number;
}

/**
 * A tenant admin connects the on-premises directory. The connection is tried first (an LDAPS
 * bind checked against the given CA), as Entra Connect checks credentials when it is configured;
 * then the connection is recorded (no secret in the event) and the sealed password stored with it.
 */
@Injectable()
export class ConnectDirectory {
  constructor(
    private readonly streams: DirectorySyncStreams,
    private readonly store: DirectoryConnectionsStore,
    private readonly scheduler: ChangeScheduler,
  ) {}

  async execute(tenantId: string, input: ConnectDirectoryInput, context: CommandContext, now: Date) {
    const changeDetection = requireChangeDetection(input.changeDetection ?? DEFAULT_CHANGE_DETECTION);
    try {
      await withDirectory(input, domainControllerIdentity, 5_000);
      if (input.writeBindDn && input.writeBindPassword) {
        const { writeBindDn: bindDn, writeBindPassword: bindPassword } = input;
        await withDirectory({ ...input, bindDn, bindPassword }, domainControllerIdentity, 5_000);
      }
    } catch (error) {
      // The directory's own words, which name no secret: unreachable, TLS refused, bind refused.
      throw new ValidationError(
        'directory.unreachable',
        undefined,
        `Could not bind to the directory over LDAPS: ${describeFailure(error)}`,
      );
    }
    const { url, caPem, bindDn, bindPassword, baseDn, usersOnlyUnder, delayModel, deletionThreshold } = input;
    const { writeBindDn, writeBindPassword } = input;
    const decision = await this.streams.execute(
      tenantId,
      {
        type: 'ConnectDirectory',
        data: { tenantId, url, bindDn, baseDn, usersOnlyUnder, delayModel, deletionThreshold },
        metadata: { now },
      },
      context,
      now,
      (tx) =>
        this.store.save(
          tx,
          {
            tenantId,
            url,
            caPem,
            bindDn,
            bindPassword,
            baseDn,
            writeBindDn,
            writeBindPassword,
            changeDetection,
          },
          now,
        ),
    );
    await this.scheduler.follow(tenantId, decision.appended, now);
    return decision.state;
  }
}

function requireChangeDetection(value: unknown): ChangeDetection {
  if (!CHANGE_DETECTION_SETTINGS.includes(value as ChangeDetection)) {
    throw new ValidationError(
      'directory.invalid-change-detection',
      undefined,
      `changeDetection is one of ${CHANGE_DETECTION_SETTINGS.join(', ')}.`,
    );
  }
  return value as ChangeDetection;
}
