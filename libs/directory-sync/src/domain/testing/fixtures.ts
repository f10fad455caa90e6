import { DirectoryEntryInput } from '../directory-entry';
import { DirectoryConnected, DirectorySyncEvent } from '../directory-sync.events';
import { DelayModel } from '../delay-model';

/** Shared test data: fixed ids, fixed instants, a `contoso.example` directory. */
export const TENANT_ID = '0b7c1f3e-5d2a-4c8b-9e6f-1a2b3c4d5e6f';
export const OTHER_TENANT_ID = '9f8e7d6c-5b4a-4c3d-8e2f-0a1b2c3d4e5f';
/** 14:00 UTC: a cycle boundary of the default 30-minute cycle. */
export const T0 = new Date('2026-03-03T14:00:00.000Z');
export const BASE_DN = 'DC=contoso,DC=example';
export const STAFF_OU = 'OU=Staff,DC=contoso,DC=example';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const at = (minutesAfterT0: number): Date => new Date(T0.getTime() + minutesAfterT0 * MINUTE);

/** A deterministic objectGUID for the n-th directory object. */
export const guid = (n: number): string => `d0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
/** A deterministic pass id. */
export const passId = (n: number): string => `e0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export const upn = (n: number): string => `user${n}@contoso.example`;

/** A full user entry as a first DirSync returns it: enabled (512), in the Staff OU. */
export const userEntry = (n: number, attributes: Record<string, string[]> = {}): DirectoryEntryInput => ({
  dn: `CN=User ${n},${STAFF_OU}`,
  objectGuid: guid(n),
  attributes: {
    objectClass: ['top', 'person', 'organizationalPerson', 'user'],
    userAccountControl: ['512'],
    userPrincipalName: [upn(n)],
    sAMAccountName: [`user${n}`],
    whenChanged: ['20260303135500.0Z'],
    ...attributes,
  },
});

/** What DirSync sends for an object it sent before: only what changed. */
export const partialEntry = (
  n: number,
  attributes: Record<string, string[]>,
  dn = `CN=User ${n},${STAFF_OU}`,
): DirectoryEntryInput => ({ dn, objectGuid: guid(n), attributes });

/** A deletion as Samba and AD return it. */
export const tombstoneEntry = (n: number): DirectoryEntryInput =>
  partialEntry(n, { isDeleted: ['TRUE'] }, `CN=User ${n}\\0ADEL:${guid(n)},CN=Deleted Objects,${BASE_DN}`);

export const disabledEntry = (n: number): DirectoryEntryInput =>
  partialEntry(n, { userAccountControl: ['514'] });
export const enabledEntry = (n: number): DirectoryEntryInput =>
  partialEntry(n, { userAccountControl: ['512'] });

export const FIXED_30_MIN: DelayModel = { kind: 'fixed', delayMs: 30 * MINUTE, maxDelayMs: 3 * HOUR };

export const directoryConnected = (data: Partial<DirectoryConnected['data']> = {}): DirectorySyncEvent => ({
  type: 'DirectoryConnected',
  data: {
    tenantId: TENANT_ID,
    url: 'ldaps://dc1.contoso.example:636',
    bindDn: `CN=Latchkey Sync,OU=Service,${BASE_DN}`,
    baseDn: BASE_DN,
    usersOnlyUnder: STAFF_OU,
    delayModel: FIXED_30_MIN,
    deletionThreshold: 500,
    connectedAt: T0.toISOString(),
    ...data,
  },
});
