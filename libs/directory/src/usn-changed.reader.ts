import { Control, type Client, type Entry } from 'ldapts';
import { SYNC_ATTRIBUTES, toDirectoryEntry, type DirectoryEntry, type DirSyncPage } from './dirsync.reader';
import { orderingFilter } from './ldap-filter';
import { decodeUsnWatermark, encodeUsnWatermark, guidString, type UsnWatermark } from './usn-watermark';

/** LDAP_SERVER_SHOW_DELETED_OID: tombstones are returned too; the control has no value. */
export const SHOW_DELETED_OID = '1.2.840.113556.1.4.417';

/** AD's default MaxPageSize: the most a DC returns in one page anyway. */
const PAGE_SIZE = 1000;

/** What a uSNChanged poll reads of each object: the sync attributes, and the USN that selected it. */
export const USN_SYNC_ATTRIBUTES = [...SYNC_ATTRIBUTES, 'uSNChanged'];

export interface UsnChangedPage extends DirSyncPage {
  /** The read started from USN 0: no usable watermark, or one of another DC database. */
  fullResync: boolean;
}

/** The DC database the poll reads, and how far its committed changes go. */
export interface DomainControllerPosition {
  invocationId: string;
  highestCommittedUsn: bigint;
}

/**
 * Where a poll resumes: after the stored USN when the watermark belongs to this DC database,
 * else from the start. A watermark ahead of the DC cannot be trusted either (the database went
 * back in time without a new invocationId, which AD never does): read everything.
 */
export function resumeAfter(
  stored: UsnWatermark | undefined,
  dc: DomainControllerPosition,
): { after: bigint; fullResync: boolean } {
  const usable =
    stored !== undefined && stored.invocationId === dc.invocationId && stored.usn <= dc.highestCommittedUsn;
  return usable ? { after: stored.usn, fullResync: false } : { after: 0n, fullResync: true };
}

/** User objects changed in `from`..`to` (inclusive), every value escaped. */
export function usnChangedFilter(from: bigint, to: bigint): string {
  return `(&(objectClass=user)${orderingFilter('uSNChanged', '>=', from.toString())}${orderingFilter(
    'uSNChanged',
    '<=',
    to.toString(),
  )})`;
}

/**
 * Reads the changes since `watermark` by polling uSNChanged, for directories that refuse DirSync:
 * the user objects whose uSNChanged lies after the watermark and up to the highestCommittedUSN read
 * at the start (a change committed meanwhile waits for the next read rather than being half seen),
 * tombstones included through the show-deleted control, in pages.
 *
 * Unlike DirSync, every object comes whole; an attribute it lacks comes as an empty list (cleared),
 * never as missing (unchanged). Each page carries the watermark to store: the one the read resumed
 * from until the last page, which carries the DC's highestCommittedUSN.
 *
 * The bound account needs to read the objects, and to list and read `CN=Deleted Objects` to be
 * shown deletions, as with DirSync.
 */
export async function* readUsnChangedPages(
  client: Client,
  namingContext: string,
  watermark: Buffer | undefined,
): AsyncGenerator<UsnChangedPage> {
  const dc = await readDomainControllerPosition(client);
  const { after, fullResync } = resumeAfter(decodeUsnWatermark(watermark), dc);
  const resumePoint = encodeUsnWatermark({ invocationId: dc.invocationId, usn: after });
  const caughtUp = encodeUsnWatermark({ invocationId: dc.invocationId, usn: dc.highestCommittedUsn });
  const pages = client.searchPaginated(
    namingContext,
    {
      scope: 'sub',
      filter: usnChangedFilter(after + 1n, dc.highestCommittedUsn),
      attributes: USN_SYNC_ATTRIBUTES,
      explicitBufferAttributes: ['objectGUID'],
      paged: { pageSize: PAGE_SIZE },
    },
    // Critical: a directory that cannot show tombstones must fail the read, not hide deletions.
    [new Control(SHOW_DELETED_OID, { critical: true })],
  );
  // One page behind, so that the last page is known to be the last when it is handed out.
  let held: Entry[] | undefined;
  for await (const { searchEntries } of pages) {
    if (held) {
      yield { entries: held.flatMap(toWholeEntry), cookie: resumePoint, moreResults: true, fullResync };
    }
    held = searchEntries;
  }
  yield { entries: (held ?? []).flatMap(toWholeEntry), cookie: caughtUp, moreResults: false, fullResync };
}

/** The rootDSE's highestCommittedUSN, and the invocationId of the DC's NTDS Settings object. */
export async function readDomainControllerPosition(client: Client): Promise<DomainControllerPosition> {
  const { searchEntries: rootDse } = await client.search('', {
    scope: 'base',
    filter: '(objectClass=*)',
    attributes: ['highestCommittedUSN', 'dsServiceName'],
  });
  const usn = single(rootDse[0]?.highestCommittedUSN);
  const dsServiceName = single(rootDse[0]?.dsServiceName);
  if (typeof usn !== 'string' || !/^\d{1,19}$/.test(usn) || typeof dsServiceName !== 'string') {
    throw new Error('the directory names no highestCommittedUSN or dsServiceName in its rootDSE');
  }
  const { searchEntries: ntdsSettings } = await client.search(dsServiceName, {
    scope: 'base',
    filter: '(objectClass=*)',
    attributes: ['invocationId'],
    explicitBufferAttributes: ['invocationId'],
  });
  const invocationId = single(ntdsSettings[0]?.invocationId);
  if (!Buffer.isBuffer(invocationId) || invocationId.length !== 16) {
    throw new Error('the directory shows no invocationId on its NTDS Settings object');
  }
  return { invocationId: guidString(invocationId), highestCommittedUsn: BigInt(usn) };
}

const single = <T>(value: T | T[] | undefined): T | undefined =>
  Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;

/**
 * A whole object: each sync attribute it does not have is there, empty, so the classifier reads
 * "cleared" (a live object's isDeleted, a tombstone's stripped UPN), not "unchanged". ldapts fills
 * in requested attributes the server left out as well; this does not rely on it.
 */
function toWholeEntry(entry: Entry): DirectoryEntry[] {
  return toDirectoryEntry(entry).map(({ dn, objectGuid, attributes }) => {
    const present = new Set(Object.keys(attributes).map((name) => name.toLowerCase()));
    const absent = USN_SYNC_ATTRIBUTES.filter(
      (name) => name !== 'objectGUID' && !present.has(name.toLowerCase()),
    );
    return {
      dn,
      objectGuid,
      attributes: { ...attributes, ...Object.fromEntries(absent.map((n) => [n, []])) },
    };
  });
}
