import { Module } from '@nestjs/common';

/** Auditors read the history: filtered, paginated, exported as NDJSON. */
@Module({})
export class HistoryHttpModule {}
