import { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { invalidMembers, ValidationFailedError } from './validation-failed.error';

/**
 * A top-level object refuses unknown members (nested objects should be `z.strictObject` too), so a
 * typo or an injected field is a 400 rather than silently dropped.
 */
abstract class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  protected abstract readonly location: 'body' | 'query';
  private readonly schema: z.ZodType;

  constructor(schema: S) {
    this.schema = schema instanceof z.ZodObject ? schema.strict() : schema;
  }

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value);
    if (!result.success) throw new ValidationFailedError(invalidMembers(result.error.issues, this.location));
    return result.data as z.output<S>;
  }
}

/** `@Body(new ZodBody(schema)) body: T` — a 400 `validation-failed` with a JSON pointer per error. */
export class ZodBody<S extends z.ZodType> extends ZodPipe<S> {
  protected readonly location = 'body';
}

/** `@Query(new ZodQuery(schema)) query: T` — errors name the query `parameter`. */
export class ZodQuery<S extends z.ZodType> extends ZodPipe<S> {
  protected readonly location = 'query';
}
