import { adLargeInteger, normaliseUsername } from '../../../app-passwords/src/domain';
import { isTombstoneDn, parseDn, ParsedDn } from './distinguished-name';
import { isObjectGuid } from './guid';

/**
 * One object of a DirSync page as plain data. `objectGuid` comes from `guidFromBytes`; attribute names
 * are as AD spelled them (compared case-insensitively). For an object seen before, DirSync sends only
 * what changed, so every attribute may be missing.
 */
export interface DirectoryEntryInput {
  dn: string;
  objectGuid: string;
  attributes: Record<string, string[]>;
}

/** Why part of an entry (or all of it) was not believed. Reported, never thrown: see `classify`. */
export interface EntryIssue {
  objectGuid?: string;
  field: string;
  reason: string;
}

/** What an entry says, validated. `undefined`: the entry did not carry (a believable) value. */
export interface ReadEntry {
  objectGuid: string;
  dn: ParsedDn;
  tombstoneDn: boolean;
  /** Lower-case class names. */
  objectClass?: string[];
  userAccountControl?: number;
  /** `null`: the attribute came back empty, i.e. it was cleared. */
  upn?: string | null;
  isDeleted?: boolean;
  /** ISO-8601, from AD's GeneralizedTime (the DC's clock, whole seconds). */
  whenChanged?: string;
  /**
   * B6: AD's pwdLastSet (a FILETIME, or 0 for "must change password at next logon"), as a decimal
   * string without leading zeros. It changes whenever the password is set or reset. A timestamp,
   * never the password. `undefined` when the entry did not carry it (an empty list included: a
   * directory that does not show it to the sync account says nothing about resets).
   */
  pwdLastSet?: string;
}

export const MAX_VALUE_LENGTH = 1024;
export const MAX_VALUES = 64;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d{1,6})?Z$/;

const parseGeneralizedTime = (value: string): string | undefined => {
  const match = GENERALIZED_TIME.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Reject 20260231…: Date.UTC would roll it over into March.
  if (
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return undefined;
  return date.toISOString();
};

/** Attribute values by lower-case name; a name spelled twice with different values is ambiguous. */
const collectAttributes = (
  attributes: unknown,
  issue: (field: string, reason: string) => void,
): Map<string, string[]> => {
  const byName = new Map<string, string[]>();
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    issue('attributes', 'not-an-object');
    return byName;
  }
  const ambiguous = new Set<string>();
  for (const [name, values] of Object.entries(attributes)) {
    const key = name.toLowerCase();
    if (
      !Array.isArray(values) ||
      values.length > MAX_VALUES ||
      values.some((value) => typeof value !== 'string' || value.length > MAX_VALUE_LENGTH)
    ) {
      issue(name, 'malformed-values');
      ambiguous.add(key);
      continue;
    }
    const seen = byName.get(key);
    if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(values)) {
      issue(name, 'ambiguous');
      ambiguous.add(key);
    }
    byName.set(key, values as string[]);
  }
  for (const key of ambiguous) byName.delete(key);
  return byName;
};

const single = (values: string[]): string | undefined => (values.length === 1 ? values[0] : undefined);

const nonEmpty = (values: string[] | undefined): string[] | undefined =>
  values === undefined || values.length === 0 ? undefined : values;

/**
 * Validates an entry. A bad `dn` or `objectGuid` drops the whole entry (nothing can be anchored or
 * scoped); a bad attribute drops only that attribute, so one odd value never hides a disable that
 * came with it, and never invents one.
 */
export const readEntry = (input: unknown): { entry?: ReadEntry; issues: EntryIssue[] } => {
  const issues: EntryIssue[] = [];
  const candidate = (
    typeof input === 'object' && input !== null ? input : {}
  ) as Partial<DirectoryEntryInput>;
  const objectGuid = isObjectGuid(candidate.objectGuid) ? candidate.objectGuid : undefined;
  const issue = (field: string, reason: string) =>
    issues.push(objectGuid === undefined ? { field, reason } : { objectGuid, field, reason });
  if (objectGuid === undefined) issue('objectGuid', 'not-a-guid');
  const dn = parseDn(candidate.dn);
  if (dn === undefined) issue('dn', 'not-a-dn');
  if (objectGuid === undefined || dn === undefined) return { issues };

  const attributes = collectAttributes(candidate.attributes, issue);
  const entry: ReadEntry = { objectGuid, dn, tombstoneDn: isTombstoneDn(dn) };

  // An empty list is an attribute the entry did not carry: ldapts answers every requested attribute
  // a delta left out with []. Only the UPN and isDeleted can really be emptied (below); objectClass,
  // userAccountControl and whenChanged never are, so an empty one says nothing and is no issue.
  const objectClass = nonEmpty(attributes.get('objectclass'));
  if (objectClass !== undefined) entry.objectClass = objectClass.map((name) => name.toLowerCase());

  const uac = nonEmpty(attributes.get('useraccountcontrol'));
  if (uac !== undefined) {
    const value = single(uac);
    const number = value !== undefined && /^-?\d{1,10}$/.test(value) ? Number(value) : NaN;
    // AD stores a signed 32-bit integer; some tools print it unsigned.
    if (Number.isInteger(number) && number >= -(2 ** 31) && number < 2 ** 32) {
      entry.userAccountControl = number >>> 0;
    } else {
      issue('userAccountControl', 'not-a-32-bit-integer');
    }
  }

  const upn = attributes.get('userprincipalname');
  if (upn !== undefined) {
    if (upn.length === 0) entry.upn = null;
    else {
      const value = single(upn);
      const normalised = value === undefined ? undefined : normaliseUsername(value);
      if (normalised === undefined) issue('userPrincipalName', 'not-a-upn');
      else entry.upn = normalised;
    }
  }

  const isDeleted = attributes.get('isdeleted');
  if (isDeleted !== undefined) {
    // Emptied: the attribute was removed, as when a deleted object is restored.
    const value = isDeleted.length === 0 ? 'FALSE' : single(isDeleted)?.toUpperCase();
    if (value === 'TRUE' || value === 'FALSE') entry.isDeleted = value === 'TRUE';
    else issue('isDeleted', 'not-a-boolean');
  }

  const pwdLastSet = nonEmpty(attributes.get('pwdlastset'));
  if (pwdLastSet !== undefined) {
    const value = adLargeInteger(single(pwdLastSet));
    if (value !== undefined) entry.pwdLastSet = value;
    else issue('pwdLastSet', 'not-a-64-bit-integer');
  }

  const whenChanged = nonEmpty(attributes.get('whenchanged'));
  if (whenChanged !== undefined) {
    const value = single(whenChanged);
    const iso = value === undefined ? undefined : parseGeneralizedTime(value);
    if (iso === undefined) issue('whenChanged', 'not-a-generalized-time');
    else entry.whenChanged = iso;
  }
  return { entry, issues };
};

/** `objectClass` contains `user` and not `computer` (computers are users to AD). */
export const isUserClass = (objectClass: readonly string[]): boolean =>
  objectClass.includes('user') && !objectClass.includes('computer');

/** userAccountControl's ACCOUNTDISABLE bit. */
export const ACCOUNT_DISABLE = 0x2;
