import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { exportErrorLine, toNdjson } from '@latchkey/audit';
import { withHistoryReader } from './audit-database';
import { filterOf, withFilterOptions, type FilterOptions } from './audit-filter.options';

interface ExportOptions extends FilterOptions {
  out: string;
  progress: boolean;
}

/**
 * `audit export`: the filtered history as NDJSON into a file (or `-`, stdout), read from PostgreSQL
 * in keyset batches and written with backpressure, so memory stays flat whatever the size. A progress
 * bar with rate and ETA goes to stderr. The lines are the API export's, error line included.
 */
export function auditExportCommand(): Command {
  return withFilterOptions(new Command('export'))
    .description("export a tenant's filtered history as NDJSON (constant memory, progress on stderr)")
    .requiredOption(
      '--out <file>',
      'where to write (created with mode 600, replaced if present; - for stdout)',
    )
    .option('--no-progress', 'no progress bar')
    .action(async (options: ExportOptions) => {
      const { tenantId, filter } = filterOf(options);
      const out: Writable =
        options.out === '-' ? process.stdout : createWriteStream(options.out, { mode: 0o600 });
      const written = await withHistoryReader(async (reader) => {
        // The total first, for the ETA: one count over the same conditions as the export.
        const total = options.progress ? await reader.count(tenantId, filter) : 0;
        const bar = options.progress
          ? new SingleBar(
              {
                stream: process.stderr,
                format:
                  'export |{bar}| {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}',
                etaBuffer: 50,
                fps: 5,
                noTTYOutput: true, // a line every few seconds when stderr is a file or a pipe
                notTTYSchedule: 5_000,
              },
              Presets.shades_classic,
            )
          : undefined;
        const started = Date.now();
        bar?.start(total, 0, { rate: 0 });
        let count = 0;
        try {
          for await (const events of reader.batches(tenantId, filter)) {
            count += events.length;
            if (!out.write(toNdjson(events))) await once(out, 'drain');
            const seconds = Math.max((Date.now() - started) / 1000, 0.001);
            // More than the count said: events appended while exporting (the bar's total grows with them).
            if (count > total) bar?.setTotal(count);
            bar?.update(count, { rate: Math.round(count / seconds) });
          }
        } catch (error) {
          out.write(exportErrorLine(undefined));
          throw error;
        } finally {
          bar?.stop();
          if (out !== process.stdout) {
            out.end();
            await once(out, 'finish');
          }
        }
        return count;
      });
      console.error(`exported ${written} events to ${options.out === '-' ? 'stdout' : options.out}`);
    });
}
