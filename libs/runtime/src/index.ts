export { describeFailure, withTimeout } from './probe';
export { exitCleanlyOnSignals } from './shutdown';
export { RepeatingTask } from './repeating-task';
export { PollingLoop, type PollingLoopOptions } from './polling-loop';
