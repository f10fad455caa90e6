/**
 * Just enough RFC 4514 to compare DNs the way AD does: attribute types and values case-insensitive,
 * escapes (`\,` or `\2C`) decoded, spaces around separators ignored. A DN is untrusted input: anything
 * that does not parse is `undefined`, never a guess.
 */
export const MAX_DN_LENGTH = 4096;

const ATTRIBUTE_TYPE = /^(?:[a-z][a-z0-9-]*|\d+(?:\.\d+)*)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A DN as normalised RDNs, most specific first: `['cn=alice', 'ou=staff', 'dc=contoso', 'dc=com']`. */
export type ParsedDn = readonly string[];

const encoder = new TextEncoder();

const decodeValue = (raw: string): string | undefined => {
  if (!raw.includes('\\')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (char !== '\\') {
      bytes.push(...encoder.encode(char));
      continue;
    }
    const pair = raw.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(pair)) {
      bytes.push(parseInt(pair, 16));
      i += 2;
    } else if (i + 1 < raw.length) {
      bytes.push(...encoder.encode(raw[i + 1]));
      i += 1;
    } else {
      return undefined; // a trailing lone backslash
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
};

/** Splits on separators that are not escaped. */
const splitUnescaped = (text: string, separator: string): string[] => {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      current += text.slice(i, i + 2);
      i += 1;
    } else if (text[i] === separator) {
      parts.push(current);
      current = '';
    } else {
      current += text[i];
    }
  }
  parts.push(current);
  return parts;
};

const normaliseAttribute = (ava: string): string | undefined => {
  const equals = ava.indexOf('=');
  if (equals <= 0) return undefined;
  const type = ava.slice(0, equals).trim().toLowerCase();
  const value = decodeValue(ava.slice(equals + 1).trim());
  if (!ATTRIBUTE_TYPE.test(type) || value === undefined || value.length === 0) return undefined;
  return `${type}=${value.normalize('NFKC').toLowerCase()}`;
};

export const parseDn = (dn: unknown): ParsedDn | undefined => {
  if (typeof dn !== 'string' || dn.length === 0 || dn.length > MAX_DN_LENGTH) return undefined;
  const rdns: string[] = [];
  for (const rdn of splitUnescaped(dn, ',')) {
    // A multi-valued RDN (`cn=a+sn=b`) compares with its parts in a fixed order.
    const avas = splitUnescaped(rdn, '+').map(normaliseAttribute);
    if (avas.some((ava) => ava === undefined)) return undefined;
    rdns.push((avas as string[]).sort().join('+'));
  }
  return rdns;
};

/** Whether `dn` is `base` or an object beneath it. */
export const isUnderDn = (dn: ParsedDn, base: ParsedDn): boolean =>
  dn.length >= base.length && base.every((rdn, i) => dn[dn.length - base.length + i] === rdn);

/**
 * AD's tombstone shape: the RDN value gains `\0ADEL:<guid>` (a line feed, then `DEL:`) and the object
 * moves to its naming context's `CN=Deleted Objects` container.
 */
export const isTombstoneDn = (dn: ParsedDn): boolean =>
  dn.length >= 2 && dn[0].includes('\ndel:') && dn[1] === 'cn=deleted objects';
