import { Module } from '@nestjs/common';
import { PointInTimeController } from './point-in-time.controller';
import { PointInTimeQueries } from './point-in-time.queries';

/** B4: state at an instant, and whether an app password could sign in then, from the history alone. */
@Module({ controllers: [PointInTimeController], providers: [PointInTimeQueries] })
export class PointInTimeHttpModule {}
