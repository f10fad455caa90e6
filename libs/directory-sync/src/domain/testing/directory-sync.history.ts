import { foldEvents } from '../../../../app-passwords/src/domain';
import { DeciderSpecification } from '../../../../app-passwords/src/domain/testing/decider.specification';
import { DirectorySyncCommand, RecordSyncPass } from '../directory-sync.commands';
import { directorySyncDecider } from '../directory-sync.decider';
import { DirectorySyncEvent } from '../directory-sync.events';
import { DirectoryEntryInput } from '../directory-entry';
import { DirectorySyncState } from '../directory-sync.state';
import { changeIdFor, syncedUserIdFor } from '../name-based-uuid';
import { guid, passId, TENANT_ID } from './fixtures';

/** A RecordSyncPass command for the n-th pass, read at `now`. */
export const syncPass = (
  n: number,
  now: Date,
  entries: DirectoryEntryInput[],
  trigger: RecordSyncPass['data']['trigger'] = 'scheduled',
): RecordSyncPass => ({
  type: 'RecordSyncPass',
  data: { tenantId: TENANT_ID, passId: passId(n), trigger, entries, cookieStored: true },
  metadata: { now },
});

export const applyChanges = (changeIds: string[], now: Date): DirectorySyncCommand => ({
  type: 'ApplyDueChanges',
  data: { tenantId: TENANT_ID, changeIds },
  metadata: { now },
});

export const applyChange = (changeId: string, now: Date): DirectorySyncCommand =>
  applyChanges([changeId], now);

/**
 * A history built the way production builds it: each command decided against the events before it,
 * its events appended. Tests then start from these events (given), never from hand-made state.
 */
export const history = (
  given: DirectorySyncEvent[],
  ...commands: DirectorySyncCommand[]
): DirectorySyncEvent[] =>
  commands.reduce(
    (events, command) => [...events, ...directorySyncDecider.decide(command, fold(events))],
    [...given],
  );

export const fold = (events: readonly DirectorySyncEvent[]): DirectorySyncState =>
  foldEvents(directorySyncDecider, events);

export const ofType = <Type extends DirectorySyncEvent['type']>(
  events: readonly DirectorySyncEvent[],
  type: Type,
): Array<Extract<DirectorySyncEvent, { type: Type }>> =>
  events.filter((event): event is Extract<DirectorySyncEvent, { type: Type }> => event.type === type);

/** The change ids a history detected for one object, oldest first. */
export const changeIdsOf = (events: readonly DirectorySyncEvent[], objectGuid: string): string[] =>
  ofType(events, 'DirectoryChangeDetected')
    .filter((event) => event.data.objectGuid === objectGuid)
    .map((event) => event.data.changeId);

/** Given these events, when this command: the directory-sync decider's specification. */
export const given = DeciderSpecification.for(directorySyncDecider);

/** The id of the `index`-th change detected by sync pass `pass` of TENANT_ID. */
export const change = (pass: number, index: number): string => changeIdFor(TENANT_ID, passId(pass), index);

/** The cloud user id of fixture user `n` (first incarnation). */
export const syncedUserId = (n: number): string => syncedUserIdFor(TENANT_ID, guid(n), 0);
