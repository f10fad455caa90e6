/** Rejects when `work` has not settled within `ms`, so that one hung dependency cannot hang /health. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A dependency's error reduced to one short line that is safe to show on /health. */
export function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0].slice(0, 200) : 'unavailable';
}
