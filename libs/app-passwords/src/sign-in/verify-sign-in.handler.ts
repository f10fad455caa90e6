import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  DEFAULT_TENANT_POLICY,
  decideSignIn,
  initialLockoutState,
  lockStatus,
  mayHoldAppPassword,
  normaliseAppPassword,
  normaliseUsername,
  registerFailedSignIn,
  registerSuccessfulSignIn,
  type LockoutState,
} from '../domain';
import { AppPasswordHasher } from '../infrastructure/app-password-hasher';
import { Clock } from '../infrastructure/clock';
import { LockoutStore } from '../infrastructure/lockout.store';
import { SignInRecorder } from '../infrastructure/sign-in-recorder';
import { VerificationReplica } from '../infrastructure/verification/verification-replica';
import { VerifySignIn, type SignInVerdict } from './verify-sign-in.command';

const MAX_RECORDED_USERNAME = 256;

/**
 * What the gateway relays is whatever the client typed. PostgreSQL refuses NUL in text and an
 * unpaired surrogate in jsonb (cutting at MAX_RECORDED_USERNAME can split a pair too), so those
 * become U+FFFD: the attempt is still looked up, counted and recorded (R9) instead of failing, and
 * with it every attempt that shares its group commit.
 */
const storable = (text: string): string => text.replaceAll('\0', '\uFFFD').replace(/\p{Cs}/gu, '\uFFFD');

/**
 * What a username that holds an app password is counted and recorded as. Clients swap their two
 * fields, and people paste the password where the account goes: the secret must not reach the
 * events, Kafka, the audit or the lockout table by that door (mayHoldAppPassword recognises it).
 */
const TYPED_APP_PASSWORD = '[app password]';

@CommandHandler(VerifySignIn)
export class VerifySignInHandler implements ICommandHandler<VerifySignIn, SignInVerdict> {
  constructor(
    private readonly replica: VerificationReplica,
    private readonly hasher: AppPasswordHasher,
    private readonly lockouts: LockoutStore,
    private readonly recorder: SignInRecorder,
    private readonly clock: Clock,
  ) {}

  async execute(command: VerifySignIn): Promise<SignInVerdict> {
    // Until this answers, no change it may have read the state before of is acknowledged.
    const ticket = this.replica.beginVerification();
    try {
      return await this.verify(command);
    } finally {
      this.replica.endVerification(ticket);
    }
  }

  private async verify(command: VerifySignIn): Promise<SignInVerdict> {
    const now = this.clock.now();
    // Lockout counts under the normalised name, or, for what cannot be a username, under the raw
    // text; what may be an app password (R9) under one stand-in, never as typed.
    const upn = normaliseUsername(command.username);
    let username =
      upn ??
      (mayHoldAppPassword(command.username)
        ? TYPED_APP_PASSWORD
        : storable(command.username.trim().toLowerCase().slice(0, MAX_RECORDED_USERNAME)));
    const hash = this.hasher.hash(normaliseAppPassword(command.password));
    // The account, the tenant's policy, the credential whose keyed hash matches and the lockout
    // state: from memory where this instance holds a lease, else from PostgreSQL (one read).
    let view = await this.replica.view(command.tenantId, username, hash);
    // A UPN the R9 rule suspects is an account's if one goes by it: the rule errs towards suspicion,
    // and a person named so must still sign in. Nobody's, it is counted under the stand-in too.
    if (upn && !view.account && mayHoldAppPassword(command.username)) {
      username = TYPED_APP_PASSWORD;
      view = await this.replica.view(command.tenantId, username, hash);
    }

    let lockout = view.lockout ?? initialLockoutState();
    let lock = lockStatus(lockout, command.clientIp, now);
    // B8: while a name is locked, its answer must not tell a right password from a wrong one, by
    // its time either. Memory answers only a right one, and a wrong one costs a read of
    // PostgreSQL: a locked name is read there whatever was presented.
    if (lock.locked && view.fromMemory) {
      view = await this.replica.viewFromDatabase(command.tenantId, username, hash);
      lockout = view.lockout ?? initialLockoutState();
      lock = lockStatus(lockout, command.clientIp, now);
    }

    const policy = view.policy ?? DEFAULT_TENANT_POLICY;
    const decision = decideSignIn({
      now,
      protocol: command.protocol,
      action: command.action,
      lockout: lock,
      tenantPolicy: view.policy ?? undefined,
      user: view.account ?? undefined,
      credential: view.credential
        ? {
            status: view.credential.revoked ? 'revoked' : 'active',
            createdAt: view.credential.createdAt,
            expiresAt: view.credential.expiresAt,
            protocols: view.credential.protocols as never,
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
      userId: view.account?.userId ?? null,
      appPasswordId: decision.allowed ? view.credential!.appPasswordId : null,
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
          userId: view.account!.userId,
          appPasswordId: view.credential!.appPasswordId,
          protocol: decision.protocol,
        }
      : { allowed: false, reason: decision.reason, rule: decision.rule ?? null };
  }
}

const changes = (state: LockoutState, change: (state: LockoutState) => LockoutState): boolean =>
  JSON.stringify(change(state)) !== JSON.stringify(state);
