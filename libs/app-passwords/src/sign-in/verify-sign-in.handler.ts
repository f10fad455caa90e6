import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import {
  DEFAULT_TENANT_POLICY,
  decideSignIn,
  initialLockoutState,
  lockStatus,
  normaliseAppPassword,
  normaliseUsername,
  registerFailedSignIn,
  registerSuccessfulSignIn,
  type LockoutState,
  type TenantPolicy,
} from '../domain';
import { AppPasswordHasher } from '../infrastructure/app-password-hasher';
import { Clock } from '../infrastructure/clock';
import { LockoutStore } from '../infrastructure/lockout.store';
import { SignInRecorder } from '../infrastructure/sign-in-recorder';
import { VerifySignIn, type SignInVerdict } from './verify-sign-in.command';

interface Row {
  user_id: string | null;
  status: 'active' | 'disabled' | 'deleted' | null;
  mfa: 'disabled' | 'enabled' | 'enforced' | null;
  requires_modern_auth: boolean | null;
  sign_ins_suspended: boolean | null;
  policy: TenantPolicy | null;
  app_password_id: string | null;
  expires_at: Date | null;
  protocols: string[] | null;
  revoked_at: Date | null;
  lockout: LockoutState | null;
}

/**
 * One read answers everything verification needs: the account, the tenant's policy, the credential
 * whose keyed hash matches, and the lockout state. The hash is computed whatever the username, so an
 * unknown user and a wrong password cost the same and answer the same (`invalid-credentials`).
 * The read sees every command acknowledged before it started: revocations hold at once (PRODUCT §4).
 */
const LOOKUP = `
  SELECT a.user_id, a.status, a.mfa, a.requires_modern_auth, a.sign_ins_suspended, t.policy,
         c.app_password_id, c.expires_at, c.protocols, c.revoked_at, l.state AS lockout
  FROM (SELECT $1::uuid AS tenant_id, $2::text AS username) q
  LEFT JOIN tenants t ON t.tenant_id = q.tenant_id
  LEFT JOIN accounts a ON a.tenant_id = q.tenant_id AND a.username = q.username AND a.status <> 'deleted'
  LEFT JOIN credentials c ON c.verifier_hash = $3 AND c.user_id = a.user_id
  LEFT JOIN sign_in_lockouts l ON l.tenant_id = q.tenant_id AND l.username = q.username`;

const MAX_RECORDED_USERNAME = 256;

/**
 * What the gateway relays is whatever the client typed. PostgreSQL refuses NUL in text and an
 * unpaired surrogate in jsonb (cutting at MAX_RECORDED_USERNAME can split a pair too), so those
 * become U+FFFD: the attempt is still looked up, counted and recorded (R9) instead of failing, and
 * with it every attempt that shares its group commit.
 */
const storable = (text: string): string => text.replaceAll('\0', '\uFFFD').replace(/\p{Cs}/gu, '\uFFFD');

@CommandHandler(VerifySignIn)
export class VerifySignInHandler implements ICommandHandler<VerifySignIn, SignInVerdict> {
  constructor(
    private readonly db: DataSource,
    private readonly hasher: AppPasswordHasher,
    private readonly lockouts: LockoutStore,
    private readonly recorder: SignInRecorder,
    private readonly clock: Clock,
  ) {}

  async execute(command: VerifySignIn): Promise<SignInVerdict> {
    const now = this.clock.now();
    // Lockout counts under the normalised name, or, for what cannot be a username, under the raw text.
    const username =
      normaliseUsername(command.username) ??
      storable(command.username.trim().toLowerCase().slice(0, MAX_RECORDED_USERNAME));
    const hash = this.hasher.hash(normaliseAppPassword(command.password));
    const [row]: Row[] = await this.db.query(LOOKUP, [command.tenantId, username, hash]);

    const policy = row.policy ?? DEFAULT_TENANT_POLICY;
    const lockout = row.lockout ?? initialLockoutState();
    const decision = decideSignIn({
      now,
      protocol: command.protocol,
      action: command.action,
      lockout: lockStatus(lockout, command.clientIp, now),
      tenantPolicy: row.policy ?? undefined,
      user:
        row.user_id && row.status && row.mfa
          ? {
              status: row.status,
              mfa: row.mfa,
              requiresModernAuth: row.requires_modern_auth ?? false,
              signInsSuspended: row.sign_ins_suspended ?? false,
            }
          : undefined,
      credential: row.app_password_id
        ? {
            status: row.revoked_at ? 'revoked' : 'active',
            expiresAt: row.expires_at?.toISOString() ?? null,
            protocols: row.protocols as never,
          }
        : undefined,
    });

    if (!decision.allowed && decision.countsAsLockoutFailure) {
      const passwordFingerprint = this.hasher.fingerprint(username, command.password);
      await this.lockouts.update(
        command.tenantId,
        username,
        (state) =>
          registerFailedSignIn(
            state,
            { clientIp: command.clientIp, passwordFingerprint, now },
            policy.lockout,
          ),
        now,
      );
    } else if (
      decision.allowed &&
      changes(lockout, (s) =>
        registerSuccessfulSignIn(s, { clientIp: command.clientIp, now }, policy.lockout),
      )
    ) {
      // Only a success from a network not yet the most familiar, or with failures to forgive, writes:
      // in steady state a successful verification writes nothing here.
      await this.lockouts.update(
        command.tenantId,
        username,
        (state) => registerSuccessfulSignIn(state, { clientIp: command.clientIp, now }, policy.lockout),
        now,
      );
    }

    await this.recorder.record({
      tenantId: command.tenantId,
      username: username.slice(0, MAX_RECORDED_USERNAME),
      userId: row.user_id,
      appPasswordId: decision.allowed ? row.app_password_id : null,
      // As the verdict names it (`IMAP`, whatever case the gateway used), so last use (B7) and the
      // history name one protocol one way.
      protocol: storable(command.protocol.trim().toUpperCase().slice(0, 32)),
      action: command.action,
      clientIp: command.clientIp,
      allowed: decision.allowed,
      reason: decision.allowed ? null : decision.reason,
      rule: decision.allowed ? null : (decision.rule ?? null),
      attemptedAt: now,
    });

    return decision.allowed
      ? {
          allowed: true,
          userId: row.user_id!,
          appPasswordId: row.app_password_id!,
          protocol: decision.protocol,
        }
      : { allowed: false, reason: decision.reason, rule: decision.rule ?? null };
  }
}

const changes = (state: LockoutState, change: (state: LockoutState) => LockoutState): boolean =>
  JSON.stringify(change(state)) !== JSON.stringify(state);
