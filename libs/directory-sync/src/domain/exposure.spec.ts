import { ValidationError } from '../../../app-passwords/src/domain';
import { exposure, exposureWindow, SignInRecord } from './exposure';
import { at, MINUTE, T0 } from './testing/fixtures';

const signIn = (minutes: number, data: Partial<SignInRecord> = {}): SignInRecord => ({
  at: at(minutes),
  allowed: true,
  appPasswordId: 'a0000000-0000-4000-8000-000000000001',
  clientIp: '203.0.113.7',
  protocol: 'imap',
  ...data,
});

describe('exposure accounting', () => {
  it('B1: the window runs from the on-premises disable to the instant app passwords stopped, with the sign-ins inside', () => {
    const result = exposure(
      { detectedAt: at(2), whenChanged: at(0), appliedAt: at(32) },
      [signIn(-1), signIn(0), signIn(15, { protocol: 'smtp' }), signIn(31.99), signIn(32), signIn(40)],
      at(60),
    );
    expect(result).toMatchObject({
      from: at(0),
      until: at(32),
      open: false,
      stoppedBy: 'directory-sync',
      windowMs: 32 * MINUTE,
    });
    expect(result.signIns.map((s) => s.at)).toEqual([at(0), at(15), at(31.99)]);
  });

  it('B1: counts only successful app-password sign-ins, in order', () => {
    const result = exposure(
      { detectedAt: at(0), appliedAt: at(30) },
      [
        signIn(20),
        signIn(5, { allowed: false, refusal: 'invalid-credentials' }),
        signIn(6, { appPasswordId: null }),
        signIn(10),
      ],
      at(60),
    );
    expect(result.signIns.map((s) => s.at)).toEqual([at(10), at(20)]);
  });

  it('B1: opens at detection when whenChanged is unknown, or later than detection (the DC clock ran ahead)', () => {
    expect(exposureWindow({ detectedAt: at(2), appliedAt: at(32) }, at(60)).from).toEqual(at(2));
    expect(exposureWindow({ detectedAt: at(2), whenChanged: at(5), appliedAt: at(32) }, at(60)).from).toEqual(
      at(2),
    );
  });

  it('B1, B2: the fast-path suspension closes the window when it comes first', () => {
    const window = exposureWindow(
      { detectedAt: at(2), whenChanged: at(0), suspendedAt: at(0.5), appliedAt: at(32) },
      at(60),
    );
    expect(window).toMatchObject({ until: at(0.5), stoppedBy: 'fast-path', windowMs: 0.5 * MINUTE });
  });

  it('B1: a window nothing has closed yet is open until now', () => {
    const result = exposure({ detectedAt: at(0) }, [signIn(10), signIn(70)], at(60));
    expect(result).toMatchObject({ open: true, until: at(60), stoppedBy: null, windowMs: 60 * MINUTE });
    expect(result.signIns).toHaveLength(1);
  });

  it('B1: never negative: stopped before the on-premises instant is a zero window', () => {
    expect(exposureWindow({ detectedAt: at(5), suspendedAt: at(1) }, at(60)).windowMs).toBe(0);
  });

  it('B1: refuses invalid instants', () => {
    expect(() => exposureWindow({ detectedAt: new Date(NaN) }, T0)).toThrow(ValidationError);
    expect(() => exposure({ detectedAt: T0 }, [signIn(1, { at: 'noon' as unknown as Date })], at(5))).toThrow(
      ValidationError,
    );
  });
});
