import { Module } from '@nestjs/common';

/** B4: state at an instant, and whether an app password could sign in then, from the history alone. */
@Module({})
export class PointInTimeHttpModule {}
