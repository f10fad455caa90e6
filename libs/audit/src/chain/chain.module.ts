import { Module } from '@nestjs/common';

/** B3: the chained history and its verification (routes for auditors). */
@Module({})
export class ChainHttpModule {}
