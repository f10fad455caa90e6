/**
 * The only thing a bench writes to stdout: one line per figure, `name value`, and one line per bar,
 * `name PASS` or `name FAIL`. Everything else (progress, warnings) goes to stderr.
 */
export class Report {
  private readonly failed: string[] = [];

  figure(name: string, value: number | string, decimals = 0): void {
    const text =
      typeof value === 'number' ? (Number.isFinite(value) ? value.toFixed(decimals) : 'NaN') : value;
    process.stdout.write(`${name} ${text}\n`);
  }

  bar(name: string, passed: boolean): void {
    if (!passed) this.failed.push(name);
    process.stdout.write(`${name} ${passed ? 'PASS' : 'FAIL'}\n`);
  }

  /** Exit status for the run: 0 when every bar passed. */
  get exitCode(): number {
    return this.failed.length === 0 ? 0 : 1;
  }
}

/** The p-th percentile (0..100) of unsorted samples, nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
