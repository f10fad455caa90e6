export { describeFailure, withTimeout } from './probe';
export { exitCleanlyOnSignals } from './shutdown';
