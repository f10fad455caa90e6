import { Module } from '@nestjs/common';
import { ChainHttpModule } from './chain/chain.module';
import { CounterfactualHttpModule } from './counterfactual/counterfactual.module';
import { HistoryHttpModule } from './history/history.module';
import { PointInTimeHttpModule } from './point-in-time/point-in-time.module';

/** What auditors (the read-only `auditor` role) see of the history, under /v1/audit. */
@Module({
  imports: [ChainHttpModule, HistoryHttpModule, PointInTimeHttpModule, CounterfactualHttpModule],
})
export class AuditHttpModule {}
