export { exportErrorLine, redactedData, toAuditEvent, toNdjson, type AuditEvent } from './audit-event';
export {
  EventHistoryReader,
  EXPORT_BATCH_SIZE,
  PAGE_SCAN_BUDGET,
  type HistoryPage,
} from './event-history.reader';
export {
  DEFAULT_PAGE_LIMIT,
  historyFilterSchema,
  MAX_PAGE_LIMIT,
  toHistoryFilter,
  type HistoryFilter,
  type HistoryFilterInput,
} from './history-filter';
