import type { Client, Entry } from 'ldapts';
import { DirSyncControl } from './dirsync.control';

/**
 * One directory object as a read returned it. From DirSync: only what changed, for an object seen
 * before. From a uSNChanged poll: every requested attribute, an absent one as an empty list.
 */
export interface DirectoryEntry {
  dn: string;
  /** AD's binary objectGUID (16 bytes, the first three groups little-endian). */
  objectGuid: Buffer;
  /** Attribute values as strings, names as the server spelled them. */
  attributes: Record<string, string[]>;
}

export interface DirSyncPage {
  entries: DirectoryEntry[];
  /** The cookie to store once this page's changes are stored. */
  cookie: Buffer;
  /** More pages follow before the directory is caught up. */
  moreResults: boolean;
}

/** What the sync worker reads of each object: enough to classify users, nothing secret. */
export const SYNC_ATTRIBUTES = [
  'objectGUID',
  'objectClass',
  'userAccountControl',
  'userPrincipalName',
  'sAMAccountName',
  'displayName',
  'isDeleted',
  'whenChanged',
  // When the password was last set or reset (B6), or 0 for "must change at next logon": a
  // timestamp, never the password. The password attributes themselves are never asked for.
  'pwdLastSet',
];

/**
 * Reads the changes since `cookie` with the DirSync control, page by page, from the naming
 * context root (DirSync only works there). The caller stores each page's events and then its
 * cookie, so a sync that fails mid-way resumes from the last page it stored.
 */
export async function* readDirSyncPages(
  client: Client,
  namingContext: string,
  cookie: Buffer | undefined,
): AsyncGenerator<DirSyncPage> {
  const control = new DirSyncControl({ cookie });
  do {
    const { searchEntries } = await client.search(
      namingContext,
      {
        scope: 'sub',
        filter: '(objectClass=user)',
        attributes: SYNC_ATTRIBUTES,
        explicitBufferAttributes: ['objectGUID'],
      },
      [control],
    );
    // A DirSync answer without its control says neither where it ended nor whether more follows:
    // not an answer to store (the next pass would resume from a cookie it never had).
    if (!control.answered) {
      throw new Error('the directory answered a DirSync search without the DirSync control');
    }
    yield {
      entries: searchEntries.flatMap(toDirectoryEntry),
      cookie: control.cookie,
      moreResults: control.moreResults,
    };
  } while (control.moreResults);
}

/** An ldapts entry as a DirectoryEntry; none for an object without a 16-byte objectGUID to anchor it. */
export function toDirectoryEntry(entry: Entry): DirectoryEntry[] {
  const guid = entry.objectGUID;
  const objectGuid = Buffer.isBuffer(guid)
    ? guid
    : Array.isArray(guid) && Buffer.isBuffer(guid[0])
      ? guid[0]
      : undefined;
  if (!objectGuid || objectGuid.length !== 16) return []; // not an object we can anchor
  const attributes: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn' || name === 'objectGUID') continue;
    const values = Array.isArray(value) ? value : [value];
    attributes[name] = values.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
  }
  return [{ dn: entry.dn, objectGuid, attributes }];
}
