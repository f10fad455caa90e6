/** Rejects when `work` has not settled within `ms`, so that one hung dependency cannot hang /health. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A dependency's error reduced to one short line that is safe to show on /health or a console.
 * Node reports a refused connection to a name with several addresses as an AggregateError with an
 * empty message, so fall back to its inner errors and to the error code.
 */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'unavailable';
  const inner = error instanceof AggregateError ? error.errors.map(describeFailure).join('; ') : '';
  const code = (error as { code?: string }).code;
  const line = error.message.split('\n')[0] || inner || code || error.name;
  return line.slice(0, 200);
}
