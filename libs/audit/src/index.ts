export { AuditHttpModule } from './audit.module';
export * from './history';
export { PointInTimeQueries } from './point-in-time/point-in-time.queries';
export type { SignInCheck } from './point-in-time/sign-in-check';
export type { PointInTimeState } from './point-in-time/state-at';
export * from './chain';
export * from './replay';
export { CounterfactualQueries, type CounterfactualAnswer } from './counterfactual/counterfactual.queries';
export { counterfactualRequest, MAX_PERIOD_DAYS } from './counterfactual/counterfactual-request';
