import { rebuildFromKafka, rebuildReadModels, REBUILDABLE_MODELS } from '@latchkey/audit';
import { createKafka } from '@latchkey/messaging';
import { dataSourceOptions } from '@latchkey/persistence';
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { DataSource } from 'typeorm';
import { loadConfig } from '../load-config';
import { instantArgument } from './audit-database';

/**
 * `replay rebuild`: read models rebuilt from the event store into fresh tables and swapped in while
 * the API keeps serving. `replay from-kafka`: the Kafka-fed ones from the topic, with a fresh
 * consumer group. Progress (rate, ETA) on stderr; the result on stdout.
 */
export function replayCommand(): Command {
  const replay = new Command('replay').description('rebuild read models from the history');
  replay
    .command('rebuild')
    .description('rebuild read models from the event store and swap them in (the API may keep running)')
    .option('--only <models>', `comma-separated, of: ${REBUILDABLE_MODELS.join(', ')}`, (value: string) =>
      value.split(',').map((model) => model.trim()),
    )
    .option('--batch-size <events>', 'events per batch', positiveInteger, 50_000)
    .action(async ({ only, batchSize }: { only?: string[]; batchSize: number }) => {
      await withDatabase(async (db) => {
        const bar = progressBar('events');
        try {
          const result = await rebuildReadModels(db, {
            only,
            batchSize,
            onProgress: ({ phase, events, total }) => bar.update(events, total, phase),
          });
          bar.stop();
          console.log(
            `rebuilt ${result.tables.join(', ')} from ${result.events} events in ${result.seconds.total.toFixed(1)} s ` +
              `(${Math.round(result.events / result.seconds.total)} events/s; swapped in after ${result.swapAttempts} ` +
              `attempt(s), ${result.eventsInSwap} events applied under the locks)`,
          );
        } finally {
          bar.stop();
        }
      });
    });
  replay
    .command('from-kafka')
    .description(
      'rebuild the Kafka-fed read models (sign-in activity) from the events topic and swap them in',
    )
    .option(
      '--from <instant>',
      'rebuild the days from this ISO instant on (default: the whole topic)',
      instantArgument,
    )
    .action(async ({ from }: { from?: Date }) => {
      const config = await loadConfig();
      await withDatabase(async (db) => {
        const bar = progressBar('messages');
        try {
          const result = await rebuildFromKafka(db, createKafka(config), {
            topic: config.kafka.eventsTopic,
            groupPrefix: `${config.kafka.clientId}.read-models`,
            from,
            onProgress: ({ phase, messages, total }) => bar.update(messages, total, phase),
          });
          bar.stop();
          console.log(
            `rebuilt sign_in_activity from ${result.messages} messages in ${result.seconds.toFixed(1)} s ` +
              `(consumer group ${result.groupId}, deleted; swapped in after ${result.swapAttempts} attempt(s))`,
          );
        } finally {
          bar.stop();
        }
      });
    });
  return replay;
}

async function withDatabase(work: (db: DataSource) => Promise<void>): Promise<void> {
  const options = dataSourceOptions(await loadConfig());
  const db = await new DataSource({
    ...options,
    applicationName: 'latchkey-cli-replay',
  } as typeof options).initialize();
  try {
    await work(db);
  } finally {
    await db.destroy();
  }
}

/** A bar on stderr with the phase, the rate over the last seconds and the ETA. */
function progressBar(unit: string) {
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `{phase} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      etaBuffer: 20,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const started = performance.now();
  let running = false;
  return {
    update(value: number, total: number, phase: string) {
      const rate = Math.round(value / Math.max((performance.now() - started) / 1000, 0.001));
      if (!running) {
        bar.start(total, value, { phase, rate });
        running = true;
      }
      bar.setTotal(total);
      bar.update(value, { phase, rate });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}
