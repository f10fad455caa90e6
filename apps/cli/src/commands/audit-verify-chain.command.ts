import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { ChainVerifier, parseAnchor, type ChainReport, type VerifyProgress } from '@latchkey/audit';
import { dataSourceOptions } from '@latchkey/persistence';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { loadConfig } from '../load-config';

interface VerifyChainOptions {
  tenant?: string;
  fromSeq?: string;
  anchor?: string[];
  json: boolean;
  progress: boolean;
}

/**
 * `audit verify-chain` (B3): recomputes the hash chain from the events and compares it with the
 * stored one, in batches (flat memory), with a progress bar (rate, ETA) on stderr. Without --tenant
 * it checks the global chain, every tenant's events, and the anchors stored with it: the operator's
 * view. Exit status 0 when intact, 2 when it breaks or an anchor does not match.
 */
export function auditVerifyChainCommand(): Command {
  return new Command('verify-chain')
    .description('verify that the stored history is intact; report the first position where it breaks')
    .option(
      '--tenant <uuid>',
      "only this tenant's chain (what its auditor can check); default: the global chain",
    )
    .option('--from-seq <n>', 'start at this position, trusting the link stored before it')
    .addOption(
      new Option(
        '--anchor <seq:link>',
        'a head kept outside the database (log, Kafka, an earlier report); repeatable',
      ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .option('--json', 'print the report as JSON on stdout', false)
    .option('--no-progress', 'no progress bar')
    .action(async (options: VerifyChainOptions) => {
      const tenant = options.tenant === undefined ? undefined : z.uuid().safeParse(options.tenant);
      if (tenant && !tenant.success) throw new Error('--tenant: expected a UUID');
      if (options.fromSeq !== undefined && !/^[1-9][0-9]{0,17}$/.test(options.fromSeq))
        throw new Error('--from-seq: expected a positive integer');
      const anchors = (options.anchor ?? []).map((text) => {
        const anchor = parseAnchor(text);
        if (!anchor)
          throw new Error(
            `--anchor: expected <seq>:<64 hex digits>, got ${JSON.stringify(text.slice(0, 80))}`,
          );
        return anchor;
      });

      const config = await loadConfig();
      const base = dataSourceOptions(config);
      // One connection: the verifier reads one batch at a time.
      const db = await new DataSource({
        ...base,
        applicationName: 'latchkey-cli-verify-chain',
        extra: { ...(base.extra as object), max: 1 },
      } as typeof base).initialize();
      const bar = options.progress ? progressBar() : undefined;
      let report: ChainReport;
      try {
        report = await new ChainVerifier(db).verify({
          tenantId: tenant?.data.toLowerCase(),
          fromSeq: options.fromSeq === undefined ? undefined : BigInt(options.fromSeq),
          anchors,
          onProgress: bar?.update,
        });
      } finally {
        bar?.stop();
        await db.destroy();
      }
      console.log(options.json ? JSON.stringify(report, null, 2) : describe(report));
      if (!report.intact) process.exitCode = 2;
    });
}

/** Progress in positions of the sealed range (the total is known up front); rate in rows read. */
function progressBar() {
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format:
        'verify |{bar}| {percentage}% | seq {position}/{sealedThrough} | {rate} rows/s | ETA {eta_formatted}',
      etaBuffer: 50,
      fps: 5,
      noTTYOutput: true, // a line every few seconds when stderr is a file or a pipe
      notTTYSchedule: 5_000,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  let begun = false;
  return {
    update: (p: VerifyProgress) => {
      const total = Number(p.sealedThrough - p.fromSeq + 1n);
      const done = Number(p.position - p.fromSeq + 1n);
      const payload = {
        position: p.position.toString(),
        sealedThrough: p.sealedThrough.toString(),
        rate: Math.round(p.rows / Math.max((Date.now() - started) / 1_000, 0.001)),
      };
      if (!begun) {
        bar.start(Math.max(total, 1), done, payload);
        begun = true;
      }
      bar.update(done, payload);
    },
    stop: () => {
      if (begun) bar.stop();
    },
  };
}

function describe(report: ChainReport): string {
  const scope = report.scope === 'tenant' ? `tenant ${report.tenantId}` : 'global chain';
  const lines = [
    `${scope}: ${report.intact ? 'INTACT' : 'BROKEN'}`,
    `  sealed through seq ${report.sealedThrough}; checked from seq ${report.checked.fromSeq}: ` +
      `${report.checked.chainRows} chain rows, ${report.checked.events} events`,
    `  head: ${report.head ? `${report.head.seq}:${report.head.link}` : 'none'} (keep it as an anchor)`,
  ];
  if (report.firstBreak) {
    const b = report.firstBreak;
    lines.push(`  first break at seq ${b.seq}: ${b.kind} (${b.detail}); ${report.breaks} break(s) in all`);
  }
  lines.push(`  anchors checked: ${report.anchors.checked}`);
  const mismatch = report.anchors.firstMismatch;
  if (mismatch)
    lines.push(
      `  anchor mismatch at seq ${mismatch.seq}: anchored ${mismatch.link}, stored ${mismatch.storedLink ?? 'nothing'} ` +
        '(the chain was rewritten after it was anchored)',
    );
  return lines.join('\n');
}
