import { HttpException } from '@nestjs/common';
import { ConcurrencyError } from '@latchkey/event-store';
import { isDependencyFailure } from './dependency-failure';
import { isDomainRefusal, statusOfRefusal, titleOfKind } from './domain-refusal';
import { DEFAULT_RETRY_AFTER_SECONDS, problemType, ProblemError, type ProblemDetails } from './problem';

/** What the edge answers for an error, and whether the error deserves a log line. */
export interface MappedProblem {
  body: ProblemDetails;
  headers: Record<string, string>;
  /** `error`: a bug, log with its stack; `warn`: a dependency outage; `none`: the caller's mistake. */
  log: 'error' | 'warn' | 'none';
}

const MAX_DETAIL = 300;

/** Titles and slugs for statuses that reach us without a more specific error. */
const byStatus: Record<number, [slug: string, title: string]> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthenticated', 'Authentication required'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  409: ['conflict', 'Conflict'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['unprocessable-content', 'Unprocessable content'],
  429: ['rate-limited', 'Too many requests'],
  503: ['dependency-unavailable', 'Dependency unavailable'],
};

const INTERNAL = problem(500, 'internal', 'Internal error');

/**
 * The mapping table from anything thrown to RFC 9457 problem details. Only errors that are known
 * to carry safe text contribute a `detail`; an unexpected error says nothing beyond "internal".
 */
export function toProblem(error: unknown): MappedProblem {
  if (error instanceof ProblemError) {
    const body = { ...problem(error.status, error.slug, error.title, error.detail), ...error.extensions };
    return { body, headers: error.headers, log: logLevel(error.status) };
  }
  if (isDomainRefusal(error)) {
    const extensions = { code: error.code, ...(error.rule ? { rule: error.rule } : {}) };
    const title = titleOfKind[error.kind ?? 'refused'];
    return clientError({
      ...problem(statusOfRefusal(error), error.code, title, error.message),
      ...extensions,
    });
  }
  if (error instanceof ConcurrencyError) {
    // Someone else changed the same stream first: the client re-reads and tries again.
    const detail = 'The resource was changed by another request; read it again and retry.';
    return clientError(problem(409, 'concurrency-conflict', 'Concurrent modification', detail));
  }
  const parserError = fromBodyParser(error);
  if (parserError) return parserError;
  if (error instanceof HttpException) return fromHttpException(error);
  if (isDependencyFailure(error)) return dependencyUnavailable();
  return { body: INTERNAL, headers: {}, log: 'error' };
}

function problem(status: number, slug: string, title: string, detail?: string): ProblemDetails {
  return { type: problemType(slug), title, status, ...(detail ? { detail: truncate(detail) } : {}) };
}

function clientError(body: ProblemDetails, headers: Record<string, string> = {}): MappedProblem {
  return { body, headers, log: 'none' };
}

function dependencyUnavailable(
  detail = 'A service this request needs is unavailable; retry later.',
): MappedProblem {
  return {
    body: problem(503, 'dependency-unavailable', 'Dependency unavailable', detail),
    headers: { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) },
    log: 'warn',
  };
}

/**
 * body-parser's errors (http-errors with a `type`). Their messages can quote the body — a
 * password in a half-typed JSON document — so each gets a fixed detail.
 */
function fromBodyParser(error: unknown): MappedProblem | undefined {
  const { type, status, limit } = (error ?? {}) as { type?: unknown; status?: unknown; limit?: unknown };
  if (!(error instanceof Error) || typeof type !== 'string' || typeof status !== 'number') return undefined;
  switch (type) {
    case 'entity.parse.failed':
    case 'request.size.invalid':
      return clientError(
        problem(400, 'malformed-body', 'Malformed body', 'The body is not a valid JSON document.'),
      );
    case 'entity.too.large': {
      const detail = `The body is larger than ${typeof limit === 'number' ? `${limit} bytes` : 'allowed'}.`;
      return clientError(problem(413, 'payload-too-large', 'Payload too large', detail));
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return clientError(
        problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send uncompressed UTF-8 JSON.'),
      );
    case 'request.aborted':
      return clientError(problem(400, 'request-aborted', 'Request aborted'));
    default:
      return status >= 400 && status < 500 ? fromStatus(status) : undefined;
  }
}

function fromHttpException(error: HttpException): MappedProblem {
  const status = error.getStatus();
  if (status === 503) return fromUnavailable(error.getResponse());
  if (status < 400 || status >= 500) return { body: INTERNAL, headers: {}, log: 'error' };
  // Nest's "Cannot GET /path?query" would echo the query string, which may hold a secret.
  const unrouted = status === 404 && /^Cannot [A-Z]+ /.test(error.message);
  const detail = unrouted
    ? 'No route matches this method and path.'
    : httpExceptionDetail(error.getResponse());
  const mapped = fromStatus(status, detail);
  if (status === 429) mapped.headers['Retry-After'] = String(DEFAULT_RETRY_AFTER_SECONDS);
  return mapped;
}

function fromStatus(status: number, detail?: string): MappedProblem {
  const [slug, title] = byStatus[status] ?? [`http-${status}`, 'Client error'];
  return clientError(problem(status, slug, title, detail));
}

/** Nest's exceptions carry a developer-written message (`Cannot GET /x`, `Validation failed (uuid is expected)`). */
function httpExceptionDetail(response: string | object): string | undefined {
  if (typeof response === 'string') return response;
  const { message } = response as { message?: unknown };
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.filter((m) => typeof m === 'string').join('; ');
  return undefined;
}

/**
 * @nestjs/terminus answers a failed health check with 503 and the state of each component; keep
 * the components' names, states and short messages (what /health always showed), nothing else.
 */
function fromUnavailable(response: string | object): MappedProblem {
  const { details } = response as { details?: unknown };
  if (typeof details !== 'object' || details === null) return dependencyUnavailable();
  const checks: Record<string, { status: string; message?: string }> = {};
  for (const [name, value] of Object.entries(details)) {
    const { status, message } = (value ?? {}) as { status?: unknown; message?: unknown };
    if (!/^[a-z0-9_-]{1,40}$/i.test(name) || typeof status !== 'string') continue;
    checks[name] = {
      status: status.slice(0, 20),
      ...(typeof message === 'string' ? { message: truncate(message) } : {}),
    };
  }
  const down = Object.keys(checks).filter((name) => checks[name].status !== 'up');
  const mapped = dependencyUnavailable(down.length ? `Unavailable: ${down.join(', ')}.` : undefined);
  mapped.body.checks = checks;
  return mapped;
}

function truncate(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}

function logLevel(status: number): MappedProblem['log'] {
  if (status >= 500) return status === 503 ? 'warn' : 'error';
  return 'none';
}
