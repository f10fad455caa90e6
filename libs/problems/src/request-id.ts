import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const ids = new WeakMap<IncomingMessage, string>();
// A caller's id is kept only if it cannot forge log lines or grow without bound.
const ACCEPTABLE = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * Middleware: every request gets an id (the caller's `X-Request-Id` if well formed), echoed in the
 * response header, in problem bodies, and in our log lines, so an operator can find what failed.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const offered = req.headers['x-request-id'];
  const id = typeof offered === 'string' && ACCEPTABLE.test(offered) ? offered : randomUUID();
  ids.set(req, id);
  res.setHeader('X-Request-Id', id);
  next();
}

export function requestIdOf(req: IncomingMessage): string {
  let id = ids.get(req);
  if (!id) ids.set(req, (id = randomUUID()));
  return id;
}
