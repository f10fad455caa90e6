import {
  clientNetwork,
  initialLockoutState,
  LockoutState,
  lockStatus,
  registerFailedSignIn,
  registerSuccessfulSignIn,
} from './smart-lockout.policy';
import { DEFAULT_LOCKOUT_SETTINGS, LockoutSettings } from './tenant-policy';
import { T0 } from './testing/fixtures';

const settings: LockoutSettings = {
  threshold: 3,
  baseLockSeconds: 60,
  maxLockSeconds: 300,
  resetAfterSeconds: 3600,
};
const ATTACKER = '203.0.113.9';
const ATTACKER_2 = '198.51.100.20';
const GATEWAY = '192.0.2.10';
const NEW_DEVICE = '192.0.2.77';

const seconds = (s: number): Date => new Date(T0.getTime() + s * 1000);

let fingerprintCounter = 0;
const fail = (
  state: LockoutState,
  clientIp: string,
  now: Date,
  fingerprint = `guess-${++fingerprintCounter}`,
) => registerFailedSignIn(state, { clientIp, passwordFingerprint: fingerprint, now }, settings);

const failTimes = (state: LockoutState, clientIp: string, times: number, now: Date): LockoutState => {
  for (let i = 0; i < times; i++) state = fail(state, clientIp, now);
  return state;
};

const succeed = (state: LockoutState, clientIp: string, now: Date) =>
  registerSuccessfulSignIn(state, { clientIp, now }, settings);

describe('smart lockout', () => {
  it('B8: the threshold of distinct failures from one network locks it for the base period', () => {
    const twoFailures = failTimes(initialLockoutState(), ATTACKER, 2, seconds(0));
    expect(lockStatus(twoFailures, ATTACKER, seconds(0))).toEqual({ locked: false });
    const state = fail(twoFailures, ATTACKER, seconds(1));
    expect(lockStatus(state, ATTACKER, seconds(1))).toEqual({
      locked: true,
      until: seconds(61),
      scope: 'network',
    });
    expect(lockStatus(state, ATTACKER, seconds(61))).toEqual({ locked: false });
  });

  it('B8: each further lock doubles, up to the maximum', () => {
    let state = initialLockoutState();
    let now = 0;
    const durations: number[] = [];
    for (let lock = 0; lock < 5; lock++) {
      state = failTimes(state, ATTACKER, 3, seconds(now));
      const status = lockStatus(state, ATTACKER, seconds(now));
      if (!status.locked) throw new Error('expected a lock');
      durations.push((status.until.getTime() - seconds(now).getTime()) / 1000);
      now = (status.until.getTime() - T0.getTime()) / 1000;
    }
    expect(durations).toEqual([60, 120, 240, 300, 300]);
  });

  it('B8: an attacker on one network never locks the user out from their own gateway', () => {
    let state = succeed(initialLockoutState(), GATEWAY, seconds(0));
    let now = 1;
    for (let round = 0; round < 6; round++) {
      state = failTimes(state, ATTACKER, 3, seconds(now));
      expect(lockStatus(state, ATTACKER, seconds(now)).locked).toBe(true);
      expect(lockStatus(state, GATEWAY, seconds(now))).toEqual({ locked: false });
      now += 400;
    }
  });

  it('B8: an attacker on one network does not lock out a new device either', () => {
    let state = failTimes(initialLockoutState(), ATTACKER, 3, seconds(0));
    state = fail(state, NEW_DEVICE, seconds(5));
    expect(lockStatus(state, NEW_DEVICE, seconds(5))).toEqual({ locked: false });
  });

  it('B8: failures spread over several unfamiliar networks lock every unfamiliar network, not familiar ones', () => {
    let state = succeed(initialLockoutState(), GATEWAY, seconds(0));
    state = failTimes(state, ATTACKER, 2, seconds(1));
    state = fail(state, ATTACKER_2, seconds(2));
    expect(lockStatus(state, NEW_DEVICE, seconds(2))).toEqual({
      locked: true,
      until: seconds(62),
      scope: 'unfamiliar-networks',
    });
    expect(lockStatus(state, GATEWAY, seconds(2))).toEqual({ locked: false });
  });

  it('B8: the same wrong password again counts once', () => {
    let state = initialLockoutState();
    for (let i = 0; i < 50; i++) state = fail(state, GATEWAY, seconds(i), 'stale-app-password');
    expect(lockStatus(state, GATEWAY, seconds(50))).toEqual({ locked: false });
  });

  it('B8: unknown usernames are counted and locked exactly like real ones', () => {
    // The policy never learns whether the username exists: the same calls give the same state.
    const forReal = failTimes(initialLockoutState(), ATTACKER, 3, seconds(0));
    fingerprintCounter -= 3;
    const forUnknown = failTimes(initialLockoutState(), ATTACKER, 3, seconds(0));
    expect(forUnknown).toEqual(forReal);
    expect(lockStatus(forUnknown, ATTACKER, seconds(0)).locked).toBe(true);
  });

  it('B8: a locked attempt changes nothing, so it cannot extend the lock', () => {
    const state = failTimes(initialLockoutState(), ATTACKER, 3, seconds(0));
    expect(fail(state, ATTACKER, seconds(10))).toBe(state);
  });

  it('B8: a success forgives that network’s failures', () => {
    let state = failTimes(initialLockoutState(), GATEWAY, 2, seconds(0));
    state = succeed(state, GATEWAY, seconds(1));
    state = failTimes(state, GATEWAY, 2, seconds(2));
    expect(lockStatus(state, GATEWAY, seconds(2))).toEqual({ locked: false });
    expect(state.familiarNetworks).toEqual([GATEWAY]);
  });

  it('B8: after a quiet period counters and lock growth start over', () => {
    let state = failTimes(initialLockoutState(), ATTACKER, 3, seconds(0));
    state = failTimes(state, ATTACKER, 3, seconds(60));
    const quietAfter = 60 + 120 + 3600 + 1;
    state = failTimes(state, ATTACKER, 3, seconds(quietAfter));
    expect(lockStatus(state, ATTACKER, seconds(quietAfter))).toEqual({
      locked: true,
      until: seconds(quietAfter + 60),
      scope: 'network',
    });
  });

  it('B8: the state stays bounded and plain JSON under a distributed attack', () => {
    let state = initialLockoutState();
    for (let i = 0; i < 500; i++) state = fail(state, `10.0.${i >> 8}.${i & 255}`, seconds(i));
    expect(state.clients.length).toBeLessThanOrEqual(64);
    expect(state.recentFailures.length).toBeLessThanOrEqual(3);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('B8: the default settings follow Entra smart lockout (10 failures, 60 s first lock)', () => {
    expect(DEFAULT_LOCKOUT_SETTINGS).toMatchObject({ threshold: 10, baseLockSeconds: 60 });
  });

  it('counts IPv6 clients by their /64 and IPv4-mapped addresses as IPv4', () => {
    expect(clientNetwork('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(clientNetwork('2001:DB8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(clientNetwork('::ffff:192.0.2.10')).toBe('192.0.2.10');
    expect(clientNetwork('192.0.2.10')).toBe('192.0.2.10');
    let state = failTimes(initialLockoutState(), '2001:db8:0:1::1', 2, seconds(0));
    state = fail(state, '2001:db8:0:1::2', seconds(0));
    expect(lockStatus(state, '2001:db8:0:1::ffff', seconds(0))).toMatchObject({
      locked: true,
      scope: 'network',
    });
  });
});
