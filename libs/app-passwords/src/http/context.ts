import type { Principal } from '@latchkey/access';
import type { CommandContext } from '../infrastructure/event-sourced-streams';

/** The actor that events record for a caller: an admin's subject, a user's own id, hr, … */
export function contextOf(principal: Principal, kind: 'admin' | 'user' | 'hr' | 'gateway'): CommandContext {
  return { tenantId: principal.tenantId, actor: { kind, id: principal.subject } };
}
