export { describeFailure, withTimeout } from './probe';
export { exitCleanlyOnSignals } from './shutdown';
export { RepeatingTask } from './repeating-task';
