import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ADMINISTRATIVE_PROTOCOLS,
  isAdministrativeProtocol,
  LEGACY_PROTOCOLS,
  parseLegacyProtocol,
} from '@latchkey/app-passwords';
import { PointInTimeQueries, type PointInTimeState, type SignInCheck } from '@latchkey/audit';
import { instantArgument, uuidArgument, withAuditDatabase } from './audit-database';

interface AtOptions {
  tenant: string;
  user: string;
  at: Date;
  appPassword?: string;
  protocol?: string;
  clientIp?: string;
  format: 'text' | 'json';
}

/**
 * `audit at`: B4 from the command line, straight from PostgreSQL with the same queries as the API: a
 * user's state at an instant, or, with --app-password and --protocol, whether that app password
 * could sign in then and why not.
 */
export function auditAtCommand(): Command {
  return new Command('at')
    .description(
      "a user's state at an instant, or whether an app password could sign in then (reads PostgreSQL directly)",
    )
    .requiredOption('--tenant <id>', 'the tenant (UUID)', uuidArgument)
    .requiredOption('--user <id>', 'the user (UUID)', uuidArgument)
    .requiredOption(
      '--at <instant>',
      'ISO 8601 with Z or an offset, e.g. 2025-03-03T14:02:00Z',
      instantArgument,
    )
    .option('--app-password <id>', 'ask whether this app password (UUID) could sign in', uuidArgument)
    .option('--protocol <protocol>', [...LEGACY_PROTOCOLS, ...ADMINISTRATIVE_PROTOCOLS].join(', '), protocol)
    .option(
      '--client-ip <ip>',
      'rebuild smart lockout (B8) for this client from the recorded attempts',
      clientIp,
    )
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(async (options: AtOptions) => {
      if ((options.appPassword === undefined) !== (options.protocol === undefined)) {
        throw new InvalidArgumentError('--app-password and --protocol go together');
      }
      const answer = await withAuditDatabase<SignInCheck | PointInTimeState>('audit-at', (db) =>
        options.appPassword && options.protocol
          ? new PointInTimeQueries(db).signInCheck(options.tenant, options.user, {
              appPasswordId: options.appPassword,
              at: options.at,
              protocol: options.protocol,
              clientIp: options.clientIp,
            })
          : new PointInTimeQueries(db).state(options.tenant, options.user, options.at),
      );
      process.stdout.write(
        options.format === 'json'
          ? JSON.stringify(answer, null, 2) + '\n'
          : 'allowed' in answer
            ? describeCheck(answer)
            : describeState(answer),
      );
    });
}

function clientIp(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError('expected an IPv4 or IPv6 address');
  return value;
}

function protocol(value: string): string {
  if (parseLegacyProtocol(value) === undefined && !isAdministrativeProtocol(value))
    throw new InvalidArgumentError(
      `expected one of ${[...LEGACY_PROTOCOLS, ...ADMINISTRATIVE_PROTOCOLS].join(', ')}`,
    );
  return value;
}

const cite = (refs: readonly { seq: string; type: string; occurredAt: string }[]) =>
  refs.map((ref) => `${ref.type} #${ref.seq} at ${ref.occurredAt}`).join('; ') || '-';

function describeState(state: PointInTimeState): string {
  const lines = [`at ${state.at}`];
  if (state.tenant.status === 'absent') lines.push('tenant: did not exist yet');
  else {
    const { policy, because } = state.tenant;
    lines.push(
      `tenant ${state.tenant.name}: app passwords ${policy.appPasswordsAllowed ? 'allowed' : 'not allowed'} (${cite([because.appPasswordsAllowed])}), ` +
        `legacy auth ${policy.legacyAuthBlocked ? 'BLOCKED' : 'not blocked'} (${cite([because.legacyAuthBlocked])}), ` +
        `max lifetime ${policy.maxLifetimeDays === null ? 'none' : `${policy.maxLifetimeDays} days`}`,
    );
  }
  if (state.user.status === 'absent') lines.push('user: did not exist yet');
  else {
    const { user } = state;
    lines.push(
      `user ${user.username}: ${user.status} (${cite([user.because.status])}), MFA ${user.mfa}${user.mfaRegistered ? ' registered' : ''}, ` +
        `modern auth ${user.requiresModernAuth ? 'REQUIRED' : 'not required'}, sign-ins ${user.signInsSuspended ? 'SUSPENDED' : 'not suspended'}, roles ${user.roles.join(', ')}`,
    );
  }
  for (const p of state.appPasswords) {
    lines.push(
      `  ${p.appPasswordId} "${p.name}": ${p.status}${p.revokedReason ? ` (${p.revokedReason} at ${p.revokedAt})` : ''}, ` +
        `protocols ${p.protocols?.join(', ') ?? 'all'}, created ${p.createdAt}, expires ${p.expiresAt ?? 'never'} — ${cite(p.because)}`,
    );
  }
  if (state.recordedAfter.length > 0) lines.push(`recorded after the instant: ${cite(state.recordedAfter)}`);
  if (state.outOfOrder.length > 0) lines.push(`out of stream order, not applied: ${cite(state.outOfOrder)}`);
  return lines.join('\n') + '\n';
}

function describeCheck(check: SignInCheck): string {
  const lines = [
    `at ${check.at}, app password ${check.appPasswordId} over ${check.protocol}` +
      (check.clientIp ? ` from ${check.clientIp}` : '') +
      `: ${check.allowed ? 'ALLOWED' : `REFUSED — ${check.reason}${check.rule ? ` (${check.rule})` : ''}`}`,
    `because: ${cite(check.because)}`,
    ...check.notes,
    `lockout: ${check.lockout.considered ? (check.lockout.status.locked ? `locked until ${check.lockout.status.until.toISOString()}` : 'not locked') : 'not considered'}` +
      (check.lockout.considered ? ` (${check.lockout.attemptsReplayed} recorded attempts replayed)` : ''),
    ...check.lockout.assumptions.map((assumption) => `  assumes: ${assumption}`),
    ...check.lockout.contradictions.map(
      (c) => `  contradiction: attempt #${c.attempt.seq} was ${c.recorded}, the replay says ${c.replayed}`,
    ),
  ];
  return lines.join('\n') + '\n';
}
