import { foldEvents } from './decider';
import {
  ConflictError,
  DomainError,
  NotFoundError,
  RuleViolationError,
  ValidationError,
} from './domain-error';
import { TenantPolicy } from './tenant-policy';
import { DeciderSpecification } from './testing/decider.specification';
import {
  appPasswordCreated,
  appPasswordId,
  at,
  mfaRegistered,
  policy,
  readyUser,
  T0,
  TENANT_ID,
  USER_ID,
  userProvisioned,
  verifier,
} from './testing/fixtures';
import { CreateAppPassword, UserCommand } from './user.commands';
import { userDecider } from './user.decider';
import { UserEvent } from './user.events';
import { UserState } from './user.state';

const given = DeciderSpecification.for(userDecider);
const ids = { tenantId: TENANT_ID, userId: USER_ID };

const create = (
  n: number,
  data: Partial<CreateAppPassword['data']> = {},
  now: Date = at(10),
): CreateAppPassword => ({
  type: 'CreateAppPassword',
  data: {
    ...ids,
    appPasswordId: appPasswordId(n),
    name: `Device ${n}`,
    verifier: verifier(n),
    tenantPolicy: policy(),
    ...data,
  },
  metadata: { now },
});

const deleteOne = (n: number, by: 'user' | 'admin', tenantPolicy: TenantPolicy = policy()): UserCommand => ({
  type: 'DeleteAppPassword',
  data: { ...ids, appPasswordId: appPasswordId(n), by, tenantPolicy },
  metadata: { now: at(20) },
});

const revoked = (n: number, reason: string, minutes = 20, extra: object = {}): UserEvent =>
  ({
    type: 'AppPasswordRevoked',
    data: {
      userId: USER_ID,
      appPasswordId: appPasswordId(n),
      reason,
      revokedAt: at(minutes).toISOString(),
      ...extra,
    },
  }) as UserEvent;

const createdMany = (count: number): UserEvent[] =>
  Array.from({ length: count }, (_, i) => appPasswordCreated(i + 1));

describe('user decider: creating app passwords', () => {
  it('R2, R6: creates an app password from a verifier, never from a chosen secret', () => {
    given(...readyUser())
      .when(create(1, { name: '  Work   laptop ' }))
      .then(appPasswordCreated(1, { name: 'Work laptop', createdAt: at(10).toISOString() }));
  });

  it('R1: an account without MFA cannot create an app password', () => {
    given(userProvisioned({ mfa: 'disabled' }), mfaRegistered())
      .when(create(1))
      .thenRefuses(RuleViolationError, 'R1.mfa-not-enabled');
  });

  it('R1: an account that has not completed MFA registration cannot create one', () => {
    given(userProvisioned({ mfa: 'enabled' }))
      .when(create(1))
      .thenRefuses(RuleViolationError, 'R1.mfa-not-registered');
  });

  it('R1: MFA enabled (not only enforced) is enough', () => {
    expect(
      given(userProvisioned({ mfa: 'enabled' }), mfaRegistered())
        .when(create(1))
        .events(),
    ).toHaveLength(1);
  });

  it('R10: users cannot create app passwords until the tenant allows it', () => {
    given(...readyUser())
      .when(create(1, { tenantPolicy: policy({ appPasswordsAllowed: false }) }))
      .thenRefuses(RuleViolationError, 'R10.app-passwords-not-allowed');
  });

  it('R3: the 40th app password is created, the 41st is refused', () => {
    expect(
      given(...readyUser(), ...createdMany(39))
        .when(create(40))
        .events(),
    ).toHaveLength(1);
    given(...readyUser(), ...createdMany(40))
      .when(create(41))
      .thenRefuses(RuleViolationError, 'R3.limit-reached');
  });

  it('R3: a tenant limit below 40 applies', () => {
    given(...readyUser(), ...createdMany(3))
      .when(create(4, { tenantPolicy: policy({ maxAppPasswordsPerUser: 3 }) }))
      .thenRefuses(RuleViolationError, 'R3.limit-reached');
  });

  it('R3: a limit above 40 in a policy still means 40', () => {
    given(...readyUser(), ...createdMany(40))
      .when(create(41, { tenantPolicy: { ...policy(), maxAppPasswordsPerUser: 1000 } }))
      .thenRefuses(RuleViolationError, 'R3.limit-reached');
  });

  it('R3: revoked and expired app passwords do not count against the limit', () => {
    const expiring = Array.from({ length: 20 }, (_, i) =>
      appPasswordCreated(i + 1, { expiresAt: at(5).toISOString() }),
    );
    const active = Array.from({ length: 19 }, (_, i) => appPasswordCreated(i + 21));
    expect(
      given(...readyUser(), ...expiring, ...active, appPasswordCreated(40), revoked(40, 'user-deleted-it', 1))
        .when(create(41))
        .events(),
    ).toHaveLength(1);
  });

  it.each([
    ['white space', ' \u3000 '],
    ['an emoji presentation selector alone', ' \uFE0F '],
  ])('R6: a name is required: %s is none', (_what, name) => {
    given(...readyUser())
      .when(create(1, { name }))
      .thenRefuses(ValidationError, 'R6.name-required');
  });

  it('R6: an emoji with its presentation selector is a name', () => {
    expect(
      given(...readyUser())
        .when(create(1, { name: '\u2764\uFE0F iPad' }))
        .events(),
    ).toHaveLength(1);
  });

  it('R6: a name longer than 64 characters is refused; 64 is fine', () => {
    given(...readyUser())
      .when(create(1, { name: 'x'.repeat(65) }))
      .thenRefuses(ValidationError, 'R6.name-too-long');
    expect(
      given(...readyUser())
        .when(create(1, { name: '📱'.repeat(64) }))
        .events(),
    ).toHaveLength(1);
  });

  it.each([
    ['a control character', 'Laptop\u0000'],
    ['a zero-width space', 'Lap\u200btop'],
    ['a right-to-left override', '\u202eLaptop'],
    ['a lone surrogate', 'Laptop\ud800'],
    ['a line separator', 'Lap\u2028top'],
    // Rendered invisibly too (regression: each made a second "Laptop" beside the first).
    ['a combining grapheme joiner', 'Lap\u034Ftop'],
    ['a Hangul filler', 'Laptop\u3164'],
    ['a half-width Hangul filler', 'Laptop\uFFA0'],
    ['a Mongolian variation selector', 'Laptop\u180B'],
    ['a variation selector other than emoji presentation', 'Laptop\uFE00'],
    ['the blank Braille pattern', 'Laptop\u2800'],
    ['nothing visible but fillers (regression: a blank name)', '\u3164'],
  ])('R6: a name with %s is refused', (_what, name) => {
    given(...readyUser())
      .when(create(1, { name }))
      .thenRefuses(ValidationError, 'R6.name-invalid-characters');
  });

  it.each([
    ['a Cyrillic а in a Latin word', 'L\u0430ptop'],
    ['Cyrillic р and о in a Latin word', 'L\u0430\u0440t\u043E\u0440'],
    ['a Greek ο in a Latin word', 'Tablet 2 Pr\u03BF'],
    ['a Latin letter in a Cyrillic word', 'Hoутбук'],
  ])('R6: a name with %s (a homoglyph of another name) is refused', (_what, name) => {
    given(...readyUser())
      .when(create(1, { name }))
      .thenRefuses(ValidationError, 'R6.name-mixed-scripts');
  });

  it.each([
    ['a Russian name for an iPhone', 'Рабочий iPhone'],
    ['a Greek word beside a Latin one', 'Outlook (Ελληνικά)'],
    ['Han beside Latin', '東京 laptop'],
    ['mathematical bold letters', '\u{1D40B}\u{1D41A}\u{1D429}\u{1D42D}\u{1D428}\u{1D429}'],
    ['Latin with diacritics', 'Müller’s iPad'],
  ])('R6: a name with %s is accepted: each word is in one script', (_what, name) => {
    expect(
      given(...readyUser())
        .when(create(1, { name }))
        .events(),
    ).toHaveLength(1);
  });

  it.each([
    ['the same name', 'Device 1'],
    ['another case', 'DEVICE 1'],
    ['full-width letters', 'Ｄｅｖｉｃｅ　１'],
    ['extra white space', '  device   1 '],
    ['an emoji presentation selector', 'Device 1\uFE0F'],
  ])('R6: a name colliding with a live one by %s is refused', (_what, name) => {
    given(...readyUser(), appPasswordCreated(1))
      .when(create(2, { name }))
      .thenRefuses(ConflictError, 'R6.name-taken');
  });

  it('R6: the name of a deleted app password can be used again', () => {
    expect(
      given(...readyUser(), appPasswordCreated(1), revoked(1, 'user-deleted-it', 5))
        .when(create(2, { name: 'Device 1' }))
        .events(),
    ).toHaveLength(1);
  });

  it('R14: an account required to use modern authentication cannot create one', () => {
    given(userProvisioned({ requiresModernAuth: true }), mfaRegistered())
      .when(create(1))
      .thenRefuses(RuleViolationError, 'R14.modern-auth-required');
  });

  it('R15: a disabled account cannot create one', () => {
    given(...readyUser(), {
      type: 'UserDisabled',
      data: { userId: USER_ID, origin: 'admin', disabledAt: T0.toISOString() },
    })
      .when(create(1))
      .thenRefuses(RuleViolationError, 'R15.account-disabled');
  });

  it('B7: an app password expires after the tenant maximum lifetime', () => {
    const [event] = given(...readyUser())
      .when(
        create(1, { tenantPolicy: policy({ maxLifetimeDays: 90 }) }, new Date('2026-03-03T14:10:00.000Z')),
      )
      .events();
    expect(event).toMatchObject({ data: { expiresAt: '2026-06-01T14:10:00.000Z' } });
  });

  it('B7, R3, R6: one cut short by a lowered maximum lifetime still counts against the limit and keeps its name; one past its own expiry does not', () => {
    const days = (n: number) => new Date(T0.getTime() + n * 86_400_000);
    // Created at T0 with no expiry; 40 days later the tenant's maximum is 30 days: cut short.
    const lowered = policy({ maxLifetimeDays: 30, maxAppPasswordsPerUser: 1 });
    given(...readyUser(), appPasswordCreated(1))
      .when(create(2, { tenantPolicy: lowered }, days(40)))
      .thenRefuses(RuleViolationError, 'R3.limit-reached');
    given(...readyUser(), appPasswordCreated(1))
      .when(
        create(2, { name: 'Device 1', tenantPolicy: { ...lowered, maxAppPasswordsPerUser: 2 } }, days(40)),
      )
      .thenRefuses(ConflictError, 'R6.name-taken');
    // Past the expiry it was created with, it frees its place and its name.
    given(...readyUser(), appPasswordCreated(1, { expiresAt: days(30).toISOString() }))
      .when(create(2, { name: 'Device 1', tenantPolicy: lowered }, days(40)))
      .then(
        appPasswordCreated(2, {
          name: 'Device 1',
          createdAt: days(40).toISOString(),
          expiresAt: days(70).toISOString(),
        }),
      );
  });

  it('B7: without a maximum lifetime an app password does not expire', () => {
    expect(
      given(...readyUser())
        .when(create(1))
        .events()[0],
    ).toMatchObject({ data: { expiresAt: null } });
  });

  it('B11: protocols are normalised, de-duplicated and ordered; none means all', () => {
    expect(
      given(...readyUser())
        .when(create(1, { protocols: ['smtp', 'IMAP', 'Imap'] }))
        .events()[0],
    ).toMatchObject({
      data: { protocols: ['IMAP', 'SMTP'] },
    });
    expect(
      given(...readyUser())
        .when(create(1, { protocols: [] }))
        .events()[0],
    ).toMatchObject({
      data: { protocols: null },
    });
  });

  it('B11: an unknown or administrative protocol cannot be in scope', () => {
    given(...readyUser())
      .when(create(1, { protocols: ['IMAP', 'GOPHER'] }))
      .thenRefuses(ValidationError, 'B11.unknown-protocol');
    given(...readyUser())
      .when(create(1, { protocols: ['POWERSHELL'] }))
      .thenRefuses(ValidationError, 'B11.unknown-protocol');
  });

  it('refuses a malformed verifier or id, and a reused id', () => {
    given(...readyUser())
      .when(create(1, { verifier: { ...verifier(1), hash: 'plain-text-password' } }))
      .thenRefuses(ValidationError, 'verifier.invalid');
    given(...readyUser())
      .when(create(1, { appPasswordId: '__proto__' }))
      .thenRefuses(ValidationError, 'id.invalid');
    given(...readyUser(), appPasswordCreated(1))
      .when(create(1, { name: 'Other' }))
      .thenRefuses(ConflictError, 'app-password.already-exists');
  });
});

describe('user decider: deleting and revoking app passwords', () => {
  it('a user deletes their own app password', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when(deleteOne(1, 'user'))
      .then(revoked(1, 'user-deleted-it'));
  });

  it('R12: once the tenant forbids app passwords, users can no longer delete theirs', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when(deleteOne(1, 'user', policy({ appPasswordsAllowed: false })))
      .thenRefuses(RuleViolationError, 'R12.users-cannot-manage');
  });

  it('R12: once the tenant forbids app passwords, admins still can delete them', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when(deleteOne(1, 'admin', policy({ appPasswordsAllowed: false })))
      .then(revoked(1, 'admin-deleted-it'));
  });

  it('deleting an app password twice emits nothing the second time; an unknown one is not found', () => {
    given(...readyUser(), appPasswordCreated(1), revoked(1, 'user-deleted-it'))
      .when(deleteOne(1, 'user'))
      .thenNothing();
    given(...readyUser())
      .when(deleteOne(7, 'admin'))
      .thenRefuses(NotFoundError, 'app-password.not-found');
  });

  it('R16: an admin deletes all of a user’s app passwords in one step', () => {
    given(...readyUser(), ...createdMany(3), revoked(2, 'user-deleted-it', 5))
      .when({ type: 'DeleteAllAppPasswords', data: { ...ids }, metadata: { now: at(20) } })
      .then(revoked(1, 'admin-deleted-all'), revoked(3, 'admin-deleted-all'));
  });

  it('R16: deleting all when there are none emits nothing', () => {
    given(...readyUser())
      .when({ type: 'DeleteAllAppPasswords', data: { ...ids }, metadata: { now: at(20) } })
      .thenNothing();
  });

  const leakReportId = 'c0ffee00-0000-4000-8000-000000000001';
  const reportLeak = (n: number): UserCommand => ({
    type: 'RevokeLeakedAppPassword',
    data: { ...ids, appPasswordId: appPasswordId(n), leakReportId },
    metadata: { now: at(20) },
  });

  it('B12: a reported leak revokes the app password at once, naming the report', () => {
    given(...readyUser(), appPasswordCreated(1))
      .when(reportLeak(1))
      .then(revoked(1, 'leak-reported', 20, { leakReportId }));
  });

  it('B12: a leak reported twice, or for a deleted account, emits nothing and is not refused', () => {
    given(...readyUser(), appPasswordCreated(1), revoked(1, 'leak-reported', 5, { leakReportId }))
      .when(reportLeak(1))
      .thenNothing();
    given(...readyUser(), appPasswordCreated(1), revoked(1, 'account-deleted', 5), {
      type: 'UserDeleted',
      data: { userId: USER_ID, origin: 'admin', deletedAt: at(5).toISOString() },
    })
      .when(reportLeak(1))
      .thenNothing();
  });
});

describe('user decider: history', () => {
  it('replaying the stream reproduces the state the decisions were made on', () => {
    const commands: UserCommand[] = [
      {
        type: 'ProvisionUser',
        data: { ...ids, username: 'alice@contoso.example', source: 'cloud', origin: 'admin' },
        metadata: { now: T0 },
      },
      { type: 'SetMfaState', data: { ...ids, mfa: 'enforced' }, metadata: { now: at(1) } },
      { type: 'CompleteMfaRegistration', data: { ...ids, tenantPolicy: policy() }, metadata: { now: at(2) } },
      create(1, { protocols: ['IMAP'], tenantPolicy: policy({ maxLifetimeDays: 30 }) }, at(3)),
      create(2, {}, at(4)),
      create(3, {}, at(5)),
      deleteOne(2, 'user'),
      { type: 'DisableUser', data: { ...ids, origin: 'admin' }, metadata: { now: at(30) } },
      { type: 'EnableUser', data: { ...ids, origin: 'admin' }, metadata: { now: at(31) } },
      {
        type: 'SetModernAuthRequirement',
        data: { ...ids, requiresModernAuth: true },
        metadata: { now: at(32) },
      },
      {
        type: 'ResetPassword',
        data: { ...ids, origin: 'admin', tenantPolicy: policy() },
        metadata: { now: at(33) },
      },
      { type: 'DeleteUser', data: { ...ids, origin: 'admin' }, metadata: { now: at(34) } },
    ];
    let state: UserState = userDecider.initialState();
    const history: UserEvent[] = [];
    for (const command of commands) {
      const events = userDecider.decide(command, state);
      state = events.reduce(userDecider.evolve, state);
      history.push(...events);
    }
    const stored = JSON.parse(JSON.stringify(history)) as UserEvent[];
    expect(foldEvents(userDecider, stored)).toEqual(state);
    expect(state).toMatchObject({
      status: 'deleted',
      mfa: 'enforced',
      mfaRegistered: true,
      requiresModernAuth: true,
      passwordResetAt: at(33).toISOString(),
    });
    expect(state.status !== 'absent' && Object.values(state.appPasswords)).toEqual([
      expect.objectContaining({ protocols: ['IMAP'], status: 'revoked', revokedReason: 'account-deleted' }),
      expect.objectContaining({ name: 'Device 2', status: 'revoked', revokedReason: 'user-deleted-it' }),
      expect.objectContaining({ name: 'Device 3', status: 'revoked', revokedReason: 'account-deleted' }),
    ]);
  });

  it('refusals never carry a verifier hash or anything else from the command', () => {
    const secretish = verifier(99);
    const attempts: UserCommand[] = [
      create(1, { verifier: secretish, tenantPolicy: policy({ appPasswordsAllowed: false }) }),
      create(41, { verifier: secretish }),
      create(1, { verifier: secretish, name: 'Device 1' }),
      create(1, { verifier: { ...secretish, hash: `${secretish.hash}x` } }),
    ];
    const refusals: DomainError[] = [];
    for (const attempt of attempts) {
      try {
        userDecider.decide(attempt, foldEvents(userDecider, [...readyUser(), ...createdMany(40)]));
      } catch (error) {
        refusals.push(error as DomainError);
      }
    }
    expect(refusals).toHaveLength(attempts.length);
    for (const refusal of refusals) {
      const visible = JSON.stringify({ ...refusal, message: refusal.message, stack: refusal.stack });
      expect(visible).not.toContain(secretish.hash);
      expect(visible).not.toContain(secretish.hash.slice(0, 12));
      expect(refusal.code).toMatch(/^[A-Za-z0-9-]+\.[a-z-]+$/);
    }
  });
});
