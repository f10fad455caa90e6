import { logLevel, type LogEntry } from 'kafkajs';
import { kafkaLogLine } from './kafka.client';

const entry = (level: logLevel, log: Record<string, unknown>): LogEntry => ({
  namespace: 'Connection',
  level,
  label: level === logLevel.ERROR ? 'ERROR' : 'WARN',
  log: { timestamp: '2026-12-04T17:37:10.574Z', message: '', ...log },
});

describe("kafkaLogLine: what of kafkajs's log reaches ours", () => {
  it('says why a request failed, as a warning, since kafkajs retries it (a broker that just started)', () => {
    expect(
      kafkaLogLine(
        entry(logLevel.ERROR, {
          message: 'Response InitProducerId(key: 22, version: 1)',
          error: "The coordinator is loading and hence can't process requests for this group",
          correlationId: 2,
        }),
      ),
    ).toEqual({
      level: 'warn',
      text: "Response InitProducerId(key: 22, version: 1): The coordinator is loading and hence can't process requests for this group",
    });
  });

  it('keeps other errors as errors, and drops the warning about the retry limit we chose', () => {
    expect(kafkaLogLine(entry(logLevel.ERROR, { message: 'Crash: KafkaJSNumberOfRetriesExceeded' }))).toEqual(
      {
        level: 'error',
        text: 'Crash: KafkaJSNumberOfRetriesExceeded',
      },
    );
    expect(
      kafkaLogLine(
        entry(logLevel.WARN, {
          message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees',
        }),
      ),
    ).toBeNull();
    expect(kafkaLogLine(entry(logLevel.WARN, { message: 'Connection timeout' }))).toEqual({
      level: 'warn',
      text: 'Connection timeout',
    });
  });
});
