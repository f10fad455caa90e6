import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ConcurrencyError } from '@latchkey/event-store';
import { DependencyUnavailableError, ProblemError, RateLimitedError } from './problem';
import { toProblem } from './problem.mapper';
import { ValidationFailedError } from './validation-failed.error';

const type = (slug: string) => `https://latchkey.dev/problems/${slug}`;

/** Shaped like libs/app-passwords' DomainError, without importing it. */
class RuleViolation extends Error {
  readonly kind = 'refused';
  constructor(
    readonly code: string,
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

/** What body-parser (http-errors) raises. */
function parserError(type: string, status: number, message: string, extra: object = {}) {
  return Object.assign(new Error(message), { type, status, statusCode: status, expose: true, ...extra });
}

const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('toProblem', () => {
  const table: [string, unknown, { status: number; type: string; headers?: object; log?: string }][] = [
    [
      'a domain refusal, by its rule',
      new RuleViolation('R3.limit-reached', 'R3', 'At most 40 app passwords per user.'),
      { status: 422, type: type('R3.limit-reached') },
    ],
    [
      'a domain not-found',
      Object.assign(new Error('No such user.'), { code: 'user.not-found', kind: 'not-found' }),
      { status: 404, type: type('user.not-found') },
    ],
    [
      'a domain conflict',
      Object.assign(new Error('Already deleted.'), { code: 'user.deleted', kind: 'conflict' }),
      { status: 409, type: type('user.deleted') },
    ],
    [
      'a domain refusal with its own status',
      Object.assign(new Error('Creation is not allowed.'), { code: 'R10.not-allowed', httpStatus: 403 }),
      { status: 403, type: type('R10.not-allowed') },
    ],
    [
      'a concurrency conflict from the event store',
      new ConcurrencyError('user-1', 3),
      { status: 409, type: type('concurrency-conflict') },
    ],
    [
      'a validation failure',
      new ValidationFailedError([{ pointer: '/name', message: 'Required' }]),
      { status: 400, type: type('validation-failed') },
    ],
    [
      'malformed JSON',
      parserError('entity.parse.failed', 400, 'Unexpected token'),
      { status: 400, type: type('malformed-body') },
    ],
    [
      'a body over the limit',
      parserError('entity.too.large', 413, 'request entity too large', { limit: 16384 }),
      { status: 413, type: type('payload-too-large') },
    ],
    [
      'a compressed body',
      parserError('encoding.unsupported', 415, 'unsupported content encoding "gzip"'),
      { status: 415, type: type('unsupported-media-type') },
    ],
    [
      'an unknown route',
      new NotFoundException('Cannot GET /v1/nope'),
      { status: 404, type: type('not-found') },
    ],
    [
      'method not allowed',
      new HttpException('Method Not Allowed', 405),
      { status: 405, type: type('method-not-allowed') },
    ],
    [
      'a bad request from a Nest pipe',
      new BadRequestException('Validation failed (uuid is expected)'),
      { status: 400, type: type('bad-request') },
    ],
    ['a forbidden from elsewhere', new ForbiddenException(), { status: 403, type: type('forbidden') }],
    [
      'an authentication failure raised by the guard',
      new ProblemError(401, 'invalid-token', 'Invalid token', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      }),
      {
        status: 401,
        type: type('invalid-token'),
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      },
    ],
    [
      'a rate limit',
      new RateLimitedError(2.5),
      { status: 429, type: type('rate-limited'), headers: { 'Retry-After': '3' } },
    ],
    [
      'a 429 from elsewhere',
      new HttpException('Too Many Requests', 429),
      { status: 429, type: type('rate-limited'), headers: { 'Retry-After': '5' } },
    ],
    [
      'PostgreSQL refusing connections',
      systemError('ECONNREFUSED'),
      { status: 503, type: type('dependency-unavailable'), headers: { 'Retry-After': '5' }, log: 'warn' },
    ],
    [
      'a refused connection to a host with several addresses',
      new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], ''),
      { status: 503, type: type('dependency-unavailable'), log: 'warn' },
    ],
    [
      'PostgreSQL shutting down (SQLSTATE 57P01), wrapped by TypeORM',
      Object.assign(new Error('terminating connection due to administrator command'), {
        name: 'QueryFailedError',
        driverError: Object.assign(new Error('terminating connection'), { code: '57P01' }),
      }),
      { status: 503, type: type('dependency-unavailable'), log: 'warn' },
    ],
    [
      'a pool timeout',
      new Error('timeout exceeded when trying to connect'),
      { status: 503, type: type('dependency-unavailable') },
    ],
    [
      'Kafka unreachable after retries',
      Object.assign(new Error('Connection error'), {
        name: 'KafkaJSNumberOfRetriesExceeded',
      }),
      { status: 503, type: type('dependency-unavailable') },
    ],
    [
      'Redis disconnected',
      new Error('Connection is closed.'),
      { status: 503, type: type('dependency-unavailable') },
    ],
    [
      'an explicit dependency outage',
      new DependencyUnavailableError('The identity provider', { retryAfterSeconds: 10 }),
      { status: 503, type: type('dependency-unavailable'), headers: { 'Retry-After': '10' } },
    ],
    [
      'a health check that failed',
      new ServiceUnavailableException({ status: 'error', error: { redis: { status: 'down' } } }),
      { status: 503, type: type('dependency-unavailable') },
    ],
    [
      'a bug',
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      { status: 500, type: type('internal'), log: 'error' },
    ],
    ['a thrown string', 'oops', { status: 500, type: type('internal'), log: 'error' }],
    [
      'a Nest 500',
      new InternalServerErrorException('db password is hunter2'),
      { status: 500, type: type('internal') },
    ],
    [
      'a system error code without a way to answer it',
      Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }),
      { status: 500, type: type('internal') },
    ],
    [
      'a SyntaxError from our own code (not the body parser)',
      new SyntaxError('Unexpected token'),
      { status: 500, type: type('internal') },
    ],
  ];

  it.each(table)('maps %s', (_, error, expected) => {
    const mapped = toProblem(error);
    expect(mapped.body).toMatchObject({ status: expected.status, type: expected.type });
    expect(typeof mapped.body.title).toBe('string');
    if (expected.headers) expect(mapped.headers).toMatchObject(expected.headers);
    if (expected.log) expect(mapped.log).toBe(expected.log);
  });

  it('names the rule and code of a domain refusal, with its message as detail', () => {
    const { body } = toProblem(
      new RuleViolation('R3.limit-reached', 'R3', 'At most 40 app passwords per user.'),
    );
    expect(body).toEqual({
      type: type('R3.limit-reached'),
      title: 'Refused by a rule',
      status: 422,
      detail: 'At most 40 app passwords per user.',
      code: 'R3.limit-reached',
      rule: 'R3',
    });
  });

  it('carries validation errors as an extension member', () => {
    const { body } = toProblem(new ValidationFailedError([{ pointer: '/name', message: 'Required' }]));
    expect(body.errors).toEqual([{ pointer: '/name', message: 'Required' }]);
  });

  it('never shows the text of an unexpected error, nor of a body-parser error', () => {
    for (const error of [
      new Error('password=hunter2'),
      new InternalServerErrorException('password=hunter2'),
      parserError('entity.parse.failed', 400, 'Unexpected token in JSON: {"password": "hunter2'),
      Object.assign(new Error('ECONNREFUSED password=hunter2'), { code: 'ECONNREFUSED' }),
    ]) {
      expect(JSON.stringify(toProblem(error).body)).not.toContain('hunter2');
    }
    expect(toProblem(new Error('x')).body).toEqual({
      type: type('internal'),
      title: 'Internal error',
      status: 500,
    });
  });

  it('truncates a long detail to one short line', () => {
    const { body } = toProblem(new RuleViolation('R6.name', 'R6', `too\nlong ${'x'.repeat(1000)}`));
    expect(body.detail).toMatch(/^too long x+…$/);
    expect((body.detail as string).length).toBeLessThanOrEqual(300);
  });

  it('refuses to take an unsafe code as a problem type', () => {
    const error = Object.assign(new Error('x'), { code: '../../evil <script>', kind: 'refused' });
    expect(toProblem(error).body.status).toBe(500);
  });

  it('keeps the state of each component of a failed health check, and nothing else', () => {
    const { body } = toProblem(
      new ServiceUnavailableException({
        status: 'error',
        error: { kafka: { status: 'down' } },
        details: {
          postgres: { status: 'up' },
          redis: { status: 'down', message: 'ECONNREFUSED', password: 'hunter2' },
          kafka: { status: 'down' },
        },
      }),
    );
    expect(body.detail).toBe('Unavailable: redis, kafka.');
    expect(body.checks).toEqual({
      postgres: { status: 'up' },
      redis: { status: 'down', message: 'ECONNREFUSED' },
      kafka: { status: 'down' },
    });
  });

  it('does not echo the query string of an unknown route', () => {
    const { body } = toProblem(new NotFoundException('Cannot GET /v1/x?token=hunter2'));
    expect(body.detail).toBe('No route matches this method and path.');
  });
});
