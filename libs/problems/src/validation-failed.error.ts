import type { z } from 'zod';
import { ProblemError } from './problem';

/** One reason a request was refused: where (`pointer` into the body, or a query `parameter`) and why. */
export interface InvalidMember {
  pointer?: string;
  parameter?: string;
  message: string;
}

// A hostile body can hold thousands of wrong members; the first few are enough to fix a request.
const MAX_ERRORS = 20;
const MAX_LENGTH = 200;

/** 400 `validation-failed`, listing what is wrong without echoing any submitted value. */
export class ValidationFailedError extends ProblemError {
  constructor(readonly errors: InvalidMember[]) {
    super(400, 'validation-failed', 'Validation failed', {
      detail: `The request has ${errors.length === 1 ? 'an invalid member' : `${errors.length} invalid members`}.`,
      extensions: { errors: errors.slice(0, MAX_ERRORS) },
    });
  }
}

/** RFC 6901: `~` and `/` inside a member name are escaped; the whole body is the empty pointer. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path
    .map((key) => '/' + String(key).replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('')
    .slice(0, MAX_LENGTH);
}

/**
 * Zod's messages name expected types, formats and bounds, never the value received. An unknown
 * member becomes one entry per name, pointing at it, so that its name is the only thing echoed.
 */
export function invalidMembers(
  issues: readonly z.core.$ZodIssue[],
  location: 'body' | 'query',
): InvalidMember[] {
  const where = (path: readonly PropertyKey[]): Omit<InvalidMember, 'message'> =>
    location === 'body'
      ? { pointer: jsonPointer(path) }
      : { parameter: path.map(String).join('.').slice(0, MAX_LENGTH) };
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ ...where([...issue.path, key]), message: 'is not allowed' }))
      : [{ ...where(issue.path), message: issue.message.slice(0, MAX_LENGTH) }],
  );
}
