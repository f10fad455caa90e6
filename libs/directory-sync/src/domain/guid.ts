import { ValidationError } from '../../../app-passwords/src/domain';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NIL_GUID = '00000000-0000-0000-0000-000000000000';

const hex = (byte: number): string => byte.toString(16).padStart(2, '0');

/**
 * AD's objectGUID is 16 bytes in Microsoft's GUID layout: the first three groups (4, 2 and 2 bytes)
 * are little-endian, the last two big-endian. `guidFromBytes` gives the canonical lower-case string,
 * the spelling `[guid]` shows in PowerShell and Entra shows as the source anchor.
 */
export const guidFromBytes = (bytes: Uint8Array): string => {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 16) {
    throw new ValidationError('directory.invalid-object-guid', undefined, 'objectGUID must be 16 bytes.');
  }
  const b = Array.from(bytes, hex);
  const guid = [b[3] + b[2] + b[1] + b[0], b[5] + b[4], b[7] + b[6], b[8] + b[9], b.slice(10).join('')].join(
    '-',
  );
  if (guid === NIL_GUID) {
    throw new ValidationError('directory.invalid-object-guid', undefined, 'objectGUID must not be nil.');
  }
  return guid;
};

/** The inverse of `guidFromBytes`: what to put in an LDAP filter on objectGUID (escaped as bytes). */
export const guidToBytes = (guid: string): Uint8Array => {
  const canonical = requireObjectGuid('objectGuid', guid);
  const plain = canonical.replaceAll('-', '');
  const big = Uint8Array.from({ length: 16 }, (_, i) => parseInt(plain.slice(i * 2, i * 2 + 2), 16));
  return Uint8Array.from([big[3], big[2], big[1], big[0], big[5], big[4], big[7], big[6], ...big.slice(8)]);
};

/** Canonical lower-case and not nil: one object, one spelling, in map keys and events. */
export const isObjectGuid = (value: unknown): value is string =>
  typeof value === 'string' && GUID.test(value) && value !== NIL_GUID;

export const requireObjectGuid = (field: string, value: unknown): string => {
  if (!isObjectGuid(value)) {
    throw new ValidationError(
      'directory.invalid-object-guid',
      undefined,
      `${field} must be a canonical lower-case GUID.`,
    );
  }
  return value;
};
