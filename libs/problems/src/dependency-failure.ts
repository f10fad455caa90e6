// Drivers report "the other side is not there" in many shapes: Node's socket error codes, pg's
// SQLSTATE classes and pool messages, kafkajs and ioredis error names and messages, TypeORM's
// wrapper around the driver's error. Recognising them here turns an outage into a 503 that tells
// clients to retry, instead of a 500 that says we are broken.

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

// SQLSTATE: 08xxx connection exception; 53300 too many connections; 57P01–57P03 shutting down or
// starting up; 57014 statement timeout.
const POSTGRES_STATES = /^(08[0-9A-Z]{3}|53300|57P0[123]|57014)$/;

const NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'MaxRetriesPerRequestError',
  'ConnectionIsNotSetError',
  'TimeoutError',
]);

const MESSAGES = [
  /^Connection terminated/, // pg
  /^timeout exceeded when trying to connect$/, // pg-pool
  /is not queryable$/, // pg client after a connection error
  /^Connection is closed\.?$/, // ioredis
  /enableOfflineQueue options is false/, // ioredis while disconnected
  /^no answer within \d+ ms$/, // @latchkey/runtime withTimeout
];

/** True when `error`, or an error it wraps, says a dependency is unreachable or overloaded. */
export function isDependencyFailure(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || POSTGRES_STATES.test(code))) return true;
  if (NAMES.has(error.name) || MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  const inner: unknown[] = [
    error.cause,
    (error as { driverError?: unknown }).driverError, // TypeORM's QueryFailedError
    (error as { originalError?: unknown }).originalError, // kafkajs retries
    ...(error instanceof AggregateError ? error.errors : []),
  ];
  return inner.some((e) => isDependencyFailure(e, depth + 1));
}
