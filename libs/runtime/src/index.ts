export { describeFailure, withTimeout } from './probe';
