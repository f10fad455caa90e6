/** Instants are shown in the reader's locale and zone, with the ISO value kept for machines. */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "2 h 05 min", "45 s": a duration for people. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}

/** An app password in groups of four letters, as it is typed: easier to read aloud and to compare. */
export function groupSecret(secret: string): string[] {
  const compact = secret.replace(/\s+/g, '');
  return compact.match(/.{1,4}/g) ?? [];
}

/** B7: when an app password stops working, as the API computes it (the tenant's maximum may cut it short). */
export function formatExpiry(appPassword: { expiresAt: string | null; expired: boolean }): string {
  if (!appPassword.expiresAt) return 'Never';
  return `${formatInstant(appPassword.expiresAt)}${appPassword.expired ? ' (expired)' : ''}`;
}
