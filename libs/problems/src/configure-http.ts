import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProblemError, problemType } from './problem';
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
    // Signed webhooks are checked over the exact bytes received, not over a re-serialisation.
    verify: (req: IncomingMessage, _res: ServerResponse, body: Buffer) => {
      (req as IncomingMessage & { [RAW_BODY]?: Buffer })[RAW_BODY] = body;
    },
  });
  app.use((error: unknown, req: IncomingMessage, res: ServerResponse, _next: (error?: unknown) => void) =>
    sendProblem(error, req, res),
  );
  app.useGlobalFilters(new ProblemFilter());
  (app.getHttpServer() as Server).on('clientError', answerUnparsableRequest);
}

/**
 * The bytes of a JSON body as received (at most JSON_BODY_LIMIT_BYTES) are kept on the request under
 * this registered symbol, which no JSON member can name: `req[Symbol.for('latchkey.raw-body')]`.
 */
export const RAW_BODY = Symbol.for('latchkey.raw-body');

/** Node's parser errors that have a more precise status than 400 (as Node's own answer has). */
const PARSER_STATUSES: Record<string, [status: number, slug: string, title: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers-too-large', 'Request headers too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'payload-too-large', 'Payload too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request-timeout', 'Request timeout'],
};

/**
 * A request Node cannot parse (headers over its 16 kB limit, a malformed request line or header)
 * never reaches Express: Node answers it with a bare status line. Answer it as problem+json like
 * every other refusal, with a request id, and close the connection as Node would.
 */
function answerUnparsableRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, slug, title] = PARSER_STATUSES[error.code ?? ''] ?? [
    400,
    'malformed-request',
    'Malformed request',
  ];
  const requestId = randomUUID();
  const body = JSON.stringify({ type: problemType(slug), title, status, requestId });
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'Content-Type: application/problem+json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      `X-Request-Id: ${requestId}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
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
