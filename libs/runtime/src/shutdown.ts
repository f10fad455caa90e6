import type { INestApplication, LoggerService } from '@nestjs/common';

/**
 * On SIGTERM or SIGINT: stop accepting work, let what is in flight finish (Nest's shutdown hooks
 * close servers, consumers and pools), then exit 0. If that takes longer than `graceMs`, exit 1 so
 * the supervisor knows the drain was cut short. Nest's own enableShutdownHooks re-raises the signal
 * instead, which supervisors report as a crash.
 */
export function exitCleanlyOnSignals(app: INestApplication, graceMs: number, logger: LoggerService): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: draining (up to ${graceMs} ms)`);
    const deadline = setTimeout(() => {
      logger.error(`drain not finished after ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
