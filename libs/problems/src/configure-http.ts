import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProblemError } from './problem';
import { ProblemFilter } from './problem.filter';
import { sendProblem } from './problem.writer';
import { assignRequestId } from './request-id';

/** Our requests are small JSON documents; anything bigger is a mistake or an attack. */
export const JSON_BODY_LIMIT_BYTES = 16 * 1024;

/** Pass to NestFactory.create: configureHttp installs the only body parser (JSON), Nest's must stay off. */
export const httpAppOptions = { bodyParser: false } satisfies NestApplicationOptions;

const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.-]+\+)?json$/;

/**
 * The HTTP edge shared by every route: request ids, a strict JSON-only body parser with a small
 * limit, and problem+json for every error, including those raised before Nest routes the request
 * (body-parser's errors quote the body, so Nest's default handling must not see them).
 * Call once, before `listen`, on an app created with `httpAppOptions`.
 */
export function configureHttp(app: NestExpressApplication): void {
  app.disable('x-powered-by');
  app.use(assignRequestId);
  app.use(requireJsonBody);
  app.useBodyParser('json', {
    limit: JSON_BODY_LIMIT_BYTES,
    strict: true, // objects and arrays only
    inflate: false, // a compressed body could expand past the limit's intent; clients need not compress 16 kB
    type: (req: IncomingMessage) => JSON_MEDIA_TYPE.test(mediaType(req)),
  });
  app.use((error: unknown, req: IncomingMessage, res: ServerResponse, _next: (error?: unknown) => void) =>
    sendProblem(error, req, res),
  );
  app.useGlobalFilters(new ProblemFilter());
}

/** 415 for a body in anything but JSON, before a parser or a handler reads it. */
function requireJsonBody(req: IncomingMessage, _res: ServerResponse, next: (error?: unknown) => void): void {
  const length = Number(req.headers['content-length'] ?? 0);
  const hasBody = req.headers['transfer-encoding'] !== undefined || length > 0;
  if (!hasBody || JSON_MEDIA_TYPE.test(mediaType(req))) return next();
  next(
    new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', {
      detail: 'Send the body as application/json.',
    }),
  );
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}
