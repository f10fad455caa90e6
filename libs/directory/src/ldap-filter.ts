/**
 * Escapes a value for use inside an LDAP search filter (RFC 4515 §3): `*`, `(`, `)`, `\` and NUL
 * become `\2a`, `\28`, `\29`, `\5c` and `\00`, so a value can never change the filter's shape.
 * Non-ASCII stays UTF-8, as the RFC allows.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `(attribute=value)` with the value escaped; the attribute must be a plain attribute name. */
export function equalityFilter(attribute: string, value: string): string {
  return simpleFilter(attribute, '=', value);
}

/** `(attribute>=value)` or `(attribute<=value)` with the value escaped (RFC 4515 greaterOrEqual, lessOrEqual). */
export function orderingFilter(attribute: string, operator: '>=' | '<=', value: string): string {
  return simpleFilter(attribute, operator, value);
}

function simpleFilter(attribute: string, operator: '=' | '>=' | '<=', value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(attribute)) throw new Error(`not an attribute name: ${attribute}`);
  return `(${attribute}${operator}${escapeFilterValue(value)})`;
}
