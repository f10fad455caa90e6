import { Module } from '@nestjs/common';
import { EventHistoryReader } from './event-history.reader';
import { HistoryController } from './history.controller';

/** Auditors read the history: filtered, paginated, exported as NDJSON. */
@Module({ controllers: [HistoryController], providers: [EventHistoryReader] })
export class HistoryHttpModule {}
