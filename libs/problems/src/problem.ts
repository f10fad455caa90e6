/** Every problem `type` is a URI under this base, followed by a stable slug (RFC 9457 §3.1.1). */
export const PROBLEM_TYPE_BASE = 'https://latchkey.dev/problems/';

export const problemType = (slug: string): string => PROBLEM_TYPE_BASE + encodeURIComponent(slug);

/** The body of an `application/problem+json` response (RFC 9457), with extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  detail?: string;
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error that already knows its problem: the edge answers it as is. Throw it (or a subclass)
 * from guards, pipes and adapters; domain code throws its own errors (see DomainRefusal).
 * `detail` must be safe to show the caller: no secret, no raw input value.
 */
export class ProblemError extends Error {
  readonly detail?: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    options: ProblemOptions = {},
  ) {
    super(options.detail ?? title, { cause: options.cause });
    this.name = new.target.name;
    this.detail = options.detail;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

/** A dependency (database, broker, identity provider…) cannot answer now; the client may retry. */
export class DependencyUnavailableError extends ProblemError {
  constructor(dependency: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(503, 'dependency-unavailable', 'Dependency unavailable', {
      detail: `${dependency} is unavailable; retry later.`,
      headers: { 'Retry-After': String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) },
      cause: options.cause,
    });
  }
}

/** The caller sent too many requests; `retryAfterSeconds` says when to try again. */
export class RateLimitedError extends ProblemError {
  constructor(retryAfterSeconds: number, detail = 'Too many requests; retry later.') {
    super(429, 'rate-limited', 'Too many requests', {
      detail,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export const DEFAULT_RETRY_AFTER_SECONDS = 5;
