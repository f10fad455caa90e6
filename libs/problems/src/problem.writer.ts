import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import { describeFailure } from '@latchkey/runtime';
import { toProblem } from './problem.mapper';
import { requestIdOf } from './request-id';

const logger = new Logger('http');
const MAX_INSTANCE = 200;

/**
 * Answers `error` as application/problem+json and logs what an operator needs: never the request
 * body or headers, which can hold passwords and tokens.
 */
export function sendProblem(error: unknown, req: IncomingMessage, res: ServerResponse): void {
  const { body, headers, log } = toProblem(error);
  const requestId = requestIdOf(req);
  const path = requestPath(req);
  if (log === 'error') {
    logger.error(
      `${requestId} ${req.method} ${path} failed`,
      error instanceof Error ? error.stack : String(error),
    );
  } else if (log === 'warn') {
    logger.warn(`${requestId} ${req.method} ${path}: dependency unavailable: ${describeFailure(error)}`);
  }
  if (res.headersSent) {
    // Part of a response is already on the wire; the only honest signal left is a cut connection.
    res.destroy();
    return;
  }
  res.statusCode = body.status;
  for (const [name, value] of Object.entries(headers)) {
    // Whoever refused the request may know better when to come back than the mapper's default:
    // the throttler sets what is left of its block (up to a minute) before it throws its 429.
    if (name.toLowerCase() === 'retry-after' && res.hasHeader(name)) continue;
    res.setHeader(name, value);
  }
  if (body.status === 401) res.setHeader('WWW-Authenticate', headers['WWW-Authenticate'] ?? 'Bearer');
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify({ ...body, instance: path, requestId }));
}

/** The path without its query string, which may carry values the caller would not want echoed. */
function requestPath(req: IncomingMessage): string {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  return url.split('?')[0].slice(0, MAX_INSTANCE);
}
