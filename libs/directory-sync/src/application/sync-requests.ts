export const SYNC_REQUESTS_QUEUE = 'directory-sync-requests';

/** B10: an admin asks for a delta pass now; the worker that takes the job runs it. */
export interface SyncRequestJob {
  tenantId: string;
  requestedBy: string;
}
