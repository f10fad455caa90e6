import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { ParsedConfig } from '@latchkey/config';
import { consumerLag } from './kafka';
import { sleep } from './processes';
import { log } from './settings';

/** Events appended but not yet published to Kafka by the outbox relay. */
export async function outboxBacklog(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM outbox`);
  return Number(rows[0].n);
}

export interface Drain {
  /** Seconds until the outbox was empty (NaN if it was not within the bound). */
  outboxSeconds: number;
  outboxLeft: number;
  /** Per consumer group: messages left on the topic when the wait ended. */
  lag: Map<string, number>;
  /** Seconds until every consumer group had caught up (NaN if they had not within the bound). */
  consumersSeconds: number;
}

/**
 * Waits (bounded) until the relay has published everything and this deployment's consumer groups
 * have caught up, so that one phase's backlog does not run into the next phase's measurement.
 */
export async function waitForDrain(
  pool: Pool,
  kafka: Kafka,
  config: ParsedConfig,
  boundS: number,
  label: string,
): Promise<Drain> {
  const started = Date.now();
  const deadline = started + boundS * 1000;
  let outboxSeconds = NaN;
  let outboxLeft = await outboxBacklog(pool);
  let lag = new Map<string, number>();
  let consumersSeconds = NaN;
  for (;;) {
    if (Number.isNaN(outboxSeconds)) {
      outboxLeft = await outboxBacklog(pool);
      if (outboxLeft === 0) outboxSeconds = (Date.now() - started) / 1000;
    }
    lag = await consumerLag(config, kafka).catch(() => new Map<string, number>());
    const behind = [...lag.values()].reduce((a, b) => a + b, 0);
    if (behind === 0 && Number.isNaN(consumersSeconds)) consumersSeconds = (Date.now() - started) / 1000;
    if ((outboxLeft === 0 && behind === 0) || Date.now() >= deadline) break;
    await sleep(500);
  }
  const lags = [...lag].map(([g, n]) => `${g}=${n}`).join(' ') || 'no consumer groups';
  log(
    `${label}: outbox ${outboxLeft === 0 ? `empty after ${outboxSeconds.toFixed(1)} s` : `${outboxLeft} left`}; ` +
      `consumer lag: ${lags}${Number.isNaN(consumersSeconds) ? '' : ` (caught up after ${consumersSeconds.toFixed(1)} s)`}`,
  );
  return { outboxSeconds, outboxLeft, lag, consumersSeconds };
}

/**
 * VACUUM (ANALYZE) the bench database. The machine's PostgreSQL may run with autovacuum off (this one
 * does); then the dead rows that every bench leaves (outbox rows marked published, counters, lockout
 * state) would slow each later run a little more. Benches vacuum before measuring so runs compare.
 */
export async function vacuum(pool: Pool): Promise<void> {
  const started = Date.now();
  await pool.query('VACUUM (ANALYZE)');
  log(`VACUUM (ANALYZE) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
