/**
 * What the edge needs from a domain error to answer it, so that libraries with rules need not
 * import anything from HTTP (libs/app-passwords' DomainError satisfies it). `code` is stable
 * (`R3.limit-reached`) and becomes the problem `type`; `message` is shown as `detail`, so it must
 * never carry a secret or another tenant's data.
 */
export interface DomainRefusal {
  readonly code: string;
  readonly message: string;
  /** The PRODUCT.md rule that refuses (`R3`), added to the problem as `rule`. */
  readonly rule?: string;
  /** How to answer, when no `httpStatus` says it outright. */
  readonly kind?: DomainRefusalKind;
  /** A 4xx status that overrides `kind`. */
  readonly httpStatus?: number;
}

export type DomainRefusalKind = 'refused' | 'invalid' | 'not-found' | 'conflict';

const statusOfKind: Record<DomainRefusalKind, number> = {
  refused: 422,
  invalid: 422,
  'not-found': 404,
  conflict: 409,
};

export const titleOfKind: Record<DomainRefusalKind, string> = {
  refused: 'Refused by a rule',
  invalid: 'Invalid request',
  'not-found': 'Not found',
  conflict: 'Conflict with the current state',
};

const STABLE_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Node's own errors also carry a string `code` (ECONNREFUSED), so a refusal must say how to answer
 * it, by `kind` or by a 4xx `httpStatus`; anything else stays an unexpected error.
 */
export function isDomainRefusal(error: unknown): error is DomainRefusal & Error {
  if (!(error instanceof Error)) return false;
  const { code, kind, httpStatus } = error as Partial<DomainRefusal>;
  if (typeof code !== 'string' || !STABLE_CODE.test(code)) return false;
  return (kind !== undefined && kind in statusOfKind) || isClientErrorStatus(httpStatus);
}

export function statusOfRefusal(refusal: DomainRefusal): number {
  if (isClientErrorStatus(refusal.httpStatus)) return refusal.httpStatus;
  return refusal.kind ? statusOfKind[refusal.kind] : 422;
}

function isClientErrorStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 499;
}
