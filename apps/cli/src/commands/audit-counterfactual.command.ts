import { Command, InvalidArgumentError, Option } from 'commander';
import { counterfactualRequest, CounterfactualQueries, type CounterfactualAnswer } from '@latchkey/audit';
import { uuidArgument, withAuditDatabase } from './audit-database';

interface CounterfactualOptions {
  tenant: string;
  from: string;
  to: string;
  model: unknown;
  format: 'text' | 'json';
}

/**
 * `audit counterfactual`: B5 from the command line, straight from PostgreSQL with the same query and
 * the same validation as the API (`POST /v1/audit/counterfactual`).
 */
export function auditCounterfactualCommand(): Command {
  return new Command('counterfactual')
    .description(
      "re-run a period's offboardings under another delay model and compare exposure (reads PostgreSQL directly)",
    )
    .requiredOption('--tenant <id>', 'the tenant (UUID)', uuidArgument)
    .requiredOption(
      '--from <instant>',
      'offboardings detected from this instant (ISO 8601 with Z or an offset)',
    )
    .requiredOption('--to <instant>', '…until before this one')
    .requiredOption(
      '--model <json>',
      'a delay model as a directory connection takes it, e.g. \'{"kind":"fixed","delayMs":900000}\'',
      json,
    )
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(async (options: CounterfactualOptions) => {
      const parsed = counterfactualRequest.safeParse({
        from: options.from,
        to: options.to,
        model: options.model,
      });
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
        throw new InvalidArgumentError(problems.join('; '));
      }
      const answer = await withAuditDatabase('audit-counterfactual', (db) =>
        new CounterfactualQueries(db).report(options.tenant, parsed.data, new Date()),
      );
      process.stdout.write(
        options.format === 'json' ? JSON.stringify(answer, null, 2) + '\n' : describe(answer),
      );
    });
}

function json(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON object');
  }
}

const duration = (ms: number): string => {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = ((abs % 60_000) / 1000).toFixed(abs % 1000 === 0 ? 0 : 3);
  return `${sign}${h}h${String(m).padStart(2, '0')}m${s.padStart(2, '0')}s`;
};
const signed = (n: number, text: string) => (n > 0 ? `+${text}` : text);

function describe(answer: CounterfactualAnswer): string {
  const lines = [
    `tenant ${answer.tenantId}, offboardings detected in [${answer.from}, ${answer.to}), under ${JSON.stringify(answer.model)}`,
  ];
  for (const o of answer.offboardings) {
    lines.push(
      `${o.upn} (${o.userId}) ${o.kind}, change ${o.changeId}${o.supersededBy.length ? ` (then ${o.supersededBy.join(', ')})` : ''}`,
      `  actual:         ${o.actual.from} → ${o.actual.until}${o.actual.open ? ' (still open)' : ''}  ${duration(o.actual.windowMs)}, ${o.actual.signIns} sign-ins inside`,
      `  counterfactual: due ${o.counterfactual.dueAt}, until ${o.counterfactual.until}  ${duration(o.counterfactual.windowMs)}, ${o.counterfactual.signIns} sign-ins inside`,
      `  delta:          ${signed(o.windowDeltaMs, duration(o.windowDeltaMs))}, ${signed(o.signInDelta, String(o.signInDelta))} sign-ins`,
    );
  }
  const t = answer.total;
  lines.push(
    `total: ${t.offboardings} offboardings; window ${duration(t.actualWindowMs)} → ${duration(t.counterfactualWindowMs)} (${signed(t.windowDeltaMs, duration(t.windowDeltaMs))}); ` +
      `sign-ins ${t.actualSignIns} → ${t.counterfactualSignIns} (${signed(t.signInDelta, String(t.signInDelta))})`,
  );
  for (const e of answer.excluded) lines.push(`not an offboarding: change ${e.changeId} (${e.reason})`);
  for (const [what, read] of Object.entries(answer.reads)) {
    if (read.truncated) lines.push(`PARTIAL: stopped at ${read.cap} ${what} read; narrow the period`);
  }
  return lines.join('\n') + '\n';
}
