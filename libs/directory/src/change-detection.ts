import {
  InsufficientAccessError,
  UnavailableCriticalExtensionError,
  UnwillingToPerformError,
  type Client,
} from 'ldapts';
import { describeFailure } from '@latchkey/runtime';
import { readDirSyncPages, type DirSyncPage } from './dirsync.reader';
import { readUsnChangedPages } from './usn-changed.reader';

/**
 * How a directory connection detects changes: `dirsync` (the DirSync control, as Entra Connect),
 * `usn` (polling uSNChanged, for directories that refuse DirSync) or `auto` (DirSync, and uSNChanged
 * polling for a pass whose DirSync the directory refuses).
 */
export const CHANGE_DETECTION_SETTINGS = ['auto', 'dirsync', 'usn'] as const;
export type ChangeDetection = (typeof CHANGE_DETECTION_SETTINGS)[number];
export const DEFAULT_CHANGE_DETECTION: ChangeDetection = 'auto';

/** The way one pass actually read the directory; a cookie is only ever fed back to the same way. */
export type ChangeReadMode = 'dirsync' | 'usn';

export interface StoredCookie {
  mode: ChangeReadMode;
  cookie: Buffer;
}

export interface ChangePage extends DirSyncPage {
  mode: ChangeReadMode;
  /** Read from the start (no cookie for this mode, or a watermark of another DC database). */
  fullResync: boolean;
  /** Why DirSync was not used, when `auto` fell back to polling: the directory's own words. */
  dirSyncRefused?: string;
  /** Why the stored DirSync cookie was not used (the DC refused it): this read starts from scratch. */
  cookieRefused?: string;
}

/**
 * The answers of a directory that does not do DirSync for this account: the control is unknown
 * (unavailableCriticalExtension), switched off or refused for the request (unwillingToPerform), or
 * the account lacks "Replicating Directory Changes" (insufficientAccessRights).
 */
export function isDirSyncRefused(error: unknown): boolean {
  return (
    error instanceof UnavailableCriticalExtensionError ||
    error instanceof UnwillingToPerformError ||
    error instanceof InsufficientAccessError
  );
}

/**
 * Reads the changes since the stored cookie, page by page, the way `detection` says. A cookie
 * stored by the other mode is never sent (a DirSync cookie means nothing to a poll, and the other
 * way round): that mode reads from the start instead. A stored DirSync cookie the DC refuses is
 * dropped for one read from scratch. With `auto`, only a refusal of DirSync itself (without a
 * cookie too) falls back to polling, before anything was read; any other failure fails the pass,
 * which the next pass repeats from the last stored cookie.
 */
export async function* readChangePages(
  client: Client,
  namingContext: string,
  detection: ChangeDetection,
  stored: StoredCookie | undefined,
): AsyncGenerator<ChangePage> {
  const cookieFor = (mode: ChangeReadMode) => (stored?.mode === mode ? stored.cookie : undefined);
  let dirSyncRefused: string | undefined;
  if (detection !== 'usn') {
    const stored = cookieFor('dirsync');
    // A cookie the DC refuses (expired, damaged, issued before a restore) would fail every pass
    // from now on: read everything once without it, as Entra Connect's full import does.
    const cookies = stored && stored.length > 0 ? [stored, undefined] : [undefined];
    let refusal: unknown;
    for (const cookie of cookies) {
      const pages = readDirSyncPages(client, namingContext, cookie);
      let first: IteratorResult<DirSyncPage>;
      try {
        first = await pages.next();
      } catch (error) {
        if (!isDirSyncRefused(error)) throw error;
        refusal = error;
        continue;
      }
      const note = {
        mode: 'dirsync' as const,
        fullResync: cookie === undefined,
        ...(cookie === undefined && refusal !== undefined ? { cookieRefused: describeFailure(refusal) } : {}),
      };
      if (!first.done) yield { ...first.value, ...note };
      for await (const page of pages) yield { ...page, ...note };
      return;
    }
    if (detection === 'dirsync') throw refusal;
    dirSyncRefused = describeFailure(refusal);
  }
  for await (const page of readUsnChangedPages(client, namingContext, cookieFor('usn'))) {
    yield { ...page, mode: 'usn', ...(dirSyncRefused === undefined ? {} : { dirSyncRefused }) };
  }
}
