import type { SignInAction } from '../domain';

/** The gateway asks, on every legacy sign-in: may `username` + `password` sign in over `protocol`? */
export class VerifySignIn {
  constructor(
    readonly tenantId: string,
    readonly username: string,
    /** The presented password. Lives only for this request: never logged, stored or published. */
    readonly password: string,
    readonly protocol: string,
    readonly action: SignInAction,
    readonly clientIp: string,
  ) {}
}

export type SignInVerdict =
  | { allowed: true; userId: string; appPasswordId: string; protocol: string }
  | { allowed: false; reason: string; rule: string | null };
