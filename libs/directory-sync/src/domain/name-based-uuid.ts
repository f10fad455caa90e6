import { createHash } from 'node:crypto';

/** The namespace of every id this context derives (a fixed, random v4 UUID). */
export const DIRECTORY_SYNC_NAMESPACE = '6f1d3c2a-8b4e-4f5a-9c7d-2e1b0a9f8e7d';

/**
 * An RFC 9562 version-5 (SHA-1, name-based) UUID. Ids that decide derives this way are the same on
 * every replay and on a retried command, with nothing random inside the domain.
 */
export const nameBasedUuid = (name: string, namespace = DIRECTORY_SYNC_NAMESPACE): string => {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** The change id of the `index`-th change a pass detected. */
export const changeIdFor = (tenantId: string, passId: string, index: number): string =>
  nameBasedUuid(`change/${tenantId}/${passId}/${index}`);

/**
 * The cloud user id of a synced object's `incarnation`-th provisioning (0 first; a deleted user is
 * deleted for good, R15, so an object restored on premises comes back as a new user). Derived per
 * tenant, so a directory that forges another tenant's objectGUID cannot aim at that tenant's users.
 */
export const syncedUserIdFor = (tenantId: string, objectGuid: string, incarnation: number): string =>
  nameBasedUuid(`user/${tenantId}/${objectGuid}/${incarnation}`);
