export { configureHttp, httpAppOptions, JSON_BODY_LIMIT_BYTES } from './configure-http';
export { isDependencyFailure } from './dependency-failure';
export { isDomainRefusal, type DomainRefusal, type DomainRefusalKind } from './domain-refusal';
export {
  DependencyUnavailableError,
  PROBLEM_TYPE_BASE,
  ProblemError,
  problemType,
  RateLimitedError,
  type ProblemDetails,
  type ProblemOptions,
} from './problem';
export { ProblemFilter } from './problem.filter';
export { CanonicalUuid } from './canonical-uuid.pipe';
export { toProblem, type MappedProblem } from './problem.mapper';
export { requestIdOf } from './request-id';
export { ValidationFailedError, type InvalidMember } from './validation-failed.error';
export { ZodBody, ZodQuery } from './zod-body.pipe';
export { instantSchema, machineTextSchema, plainTextSchema } from './zod-schemas';
