/** A rule of PRODUCT.md: `R1`–`R17` from the reference, `B1`–`B12` beyond it. */
export type RuleId = `R${number}` | `B${number}`;

/**
 * How the edge should answer a refusal: `refused` (a named rule says no), `invalid` (the input is
 * malformed), `not-found`, `conflict` (the stream is not in a state the command can apply to).
 */
export type DomainErrorKind = 'refused' | 'invalid' | 'not-found' | 'conflict';

/**
 * A refusal by the domain. `code` is stable (`R3.limit-reached`) and becomes the problem+json `type`;
 * `message` is for humans and never carries a secret, a verifier or another tenant's data.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    readonly code: string,
    readonly rule: RuleId | undefined,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A named rule of PRODUCT.md forbids the command. */
export class RuleViolationError extends DomainError {
  readonly kind = 'refused';

  constructor(rule: RuleId, reason: string, message: string) {
    super(`${rule}.${reason}`, rule, message);
  }
}

/** The command's input is malformed (a rule may say which shape is required). */
export class ValidationError extends DomainError {
  readonly kind = 'invalid';
}

/** The stream, or an item inside it, does not exist for this caller. */
export class NotFoundError extends DomainError {
  readonly kind = 'not-found';

  constructor(code: string, message: string) {
    super(code, undefined, message);
  }
}

/** The stream exists but is in a state the command cannot apply to. */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}
