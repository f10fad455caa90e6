// The console talks to the API like any other client: JSON over HTTP on this origin, a bearer token,
// and RFC 9457 problem+json for every refusal, whose title and detail are shown to the person.

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    /** The rule of PRODUCT.md that refused, when the API names one (R10, R12…). */
    readonly rule: string | undefined,
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

export type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** A client bound to a token; `onUnauthenticated` runs when the API no longer accepts it. */
export function apiWith(token: string, onUnauthenticated: () => void): Api {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) onUnauthenticated();
    if (!response.ok) throw await problemOf(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  };
}

export async function problemOf(response: Response): Promise<ApiProblem> {
  const type = response.headers.get('content-type') ?? '';
  if (/json/.test(type)) {
    try {
      const body = (await response.json()) as { title?: string; detail?: string; rule?: string };
      return new ApiProblem(
        response.status,
        body.title ?? response.statusText,
        body.detail,
        typeof body.rule === 'string' ? body.rule : undefined,
      );
    } catch {
      // fall through: a body that is not the JSON it claims to be
    }
  }
  return new ApiProblem(
    response.status,
    response.statusText || `HTTP ${response.status}`,
    undefined,
    undefined,
  );
}

export interface ConsoleConfig {
  oidc: {
    issuer: string;
    clientId: string;
    scope: string;
    resource: string | null;
    redirectPath: string;
  } | null;
  devSignIn: boolean;
}

export type Role = 'tenant-admin' | 'user' | 'hr' | 'auditor' | 'gateway';

export interface Me {
  tenantId: string;
  subject: string;
  roles: Role[];
  amr: string[];
}

export interface AppPasswordSummary {
  appPasswordId: string;
  name: string;
  protocols: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  expired: boolean;
  lastUsed: { at: string; clientIp: string; protocol: string } | null;
}

export interface CreatedAppPassword {
  appPasswordId: string;
  name: string;
  password: string;
  protocols?: string[] | null;
  expiresAt?: string | null;
}

export interface TenantPolicy {
  appPasswordsAllowed: boolean;
  legacyAuthBlocked: boolean;
  maxAppPasswordsPerUser: number;
  maxLifetimeDays: number | null;
  revokeOnPasswordReset: boolean;
  fastPathOffboarding: boolean;
  lockout: { threshold: number; baseLockSeconds: number; maxLockSeconds: number; resetAfterSeconds: number };
}

export interface Tenant {
  tenantId: string;
  name: string;
  createdAt: string;
  policy: TenantPolicy;
  version: number;
}

/** What every view of a user says of them. */
interface UserSummary {
  userId: string;
  username: string;
  source: string;
  status: string;
  mfa: string;
  mfaRegistered: boolean;
  /** B2: an HR fast path suspended their app passwords; only a tenant admin lifts it. */
  signInsSuspended: boolean;
}

export interface UserView extends UserSummary {
  requiresModernAuth: boolean;
}

/** A row of `GET /v1/users/page`. */
export interface UserRow extends UserSummary {
  appPasswordCount: number;
}

export interface UserPage {
  items: UserRow[];
  next: string | null;
}

/** `GET /v1/me/app-password-policy`: what applies to the signed-in user, before they try. */
export interface MyAppPasswordPolicy {
  appPasswordsAllowed: boolean;
  maxAppPasswordsPerUser: number;
  liveAppPasswords: number;
  maxLifetimeDays: number | null;
  mfa: string;
  mfaRegistered: boolean;
  canCreate: boolean;
  canDelete: boolean;
  reasons: { rule: string; code: string; title: string }[];
}

export interface DirectoryStatus {
  url?: string;
  bindDn?: string;
  baseDn: string;
  delayModel: Record<string, unknown>;
  deletionThreshold: number;
  changeDetection?: string;
  lastPass: { passId: string; at: string; mode: string } | null;
  pending: { changeId: string; objectGuid: string; dueAt: string }[];
  heldMassDeletions: { passId: string; changeIds: string[] }[];
}

export interface AuditEvent {
  seq: string;
  id: string;
  streamId: string;
  type: string;
  actor: { kind: string; id?: string };
  data: Record<string, unknown>;
  occurredAt: string;
}

export interface Offboarding {
  offboardingId: string;
  username: string;
  userId: string | null;
  source: string | null;
  action: string;
  reason: string | null;
  timeline: {
    requestedAt: string;
    effectiveAt: string;
    writtenToDirectoryAt: string | null;
    detectedAt: string | null;
    scheduledAt: string | null;
    dueAt: string | null;
    appliedAt: string | null;
    fastPathSuspendedAt: string | null;
    appPasswordsStoppedAt: string | null;
    rejected: { reason: string; at: string } | null;
  };
  exposure: {
    from: string;
    until: string;
    open: boolean;
    stoppedBy: string | null;
    durationMs: number;
    signIns: { at: string; appPasswordId: string | null; clientIp: string; protocol: string }[];
  } | null;
}

export interface ChainReport {
  intact: boolean;
  sealedThrough: string;
  checked: { chainRows: number; events: number };
  head: { seq: string; link: string } | null;
  firstBreak: { seq: string; kind: string; detail: string } | null;
  breaks: number;
}
