/**
 * What the sync worker knows of each user object of a tenant's directory, by objectGuid. DirSync sends
 * only what changed for an object seen before, so classifying an entry needs the object's previous
 * state. Only user objects are kept, in scope or not: a user that moves into scope must be known.
 */
export interface MirroredUser {
  /** Normalised; null until an entry carried a believable one. */
  upn: string | null;
  /** userAccountControl's disable bit; null until an entry carried userAccountControl. */
  disabled: boolean | null;
  deleted: boolean;
  inScope: boolean;
  /**
   * B6: AD's pwdLastSet as last read: the baseline against which a change is a password reset.
   * Absent until an entry carried it (and from mirror events recorded before it was read).
   */
  pwdLastSet?: string;
}

export type DirectoryMirror = Readonly<Record<string, MirroredUser>>;

export const emptyMirror = (): DirectoryMirror => ({});

/**
 * Whether Entra would hold a cloud object for it: in scope, not a tombstone, and known well enough to
 * provision (a UPN to sign in with and an account state).
 */
export const belongsInCloud = (user: MirroredUser | undefined): boolean =>
  user !== undefined && user.inScope && !user.deleted && user.upn !== null && user.disabled !== null;

export const sameMirroredUser = (a: MirroredUser | undefined, b: MirroredUser | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.upn === b.upn &&
  a.disabled === b.disabled &&
  a.deleted === b.deleted &&
  a.inScope === b.inScope &&
  a.pwdLastSet === b.pwdLastSet;
