/**
 * One byte sequence per JSON value, so that a hash of it changes exactly when the value does: object
 * members sorted by key (UTF-16 code units, as RFC 8785 says), no insignificant whitespace, strings
 * and numbers written as ECMAScript writes them (which is RFC 8785's number form). Members whose value
 * is undefined are left out, as JSON.stringify does; anything JSON cannot carry is an error rather
 * than a silent `null`, so two different inputs cannot collapse into one serialisation.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold the number ${value}`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}
