import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Every `/v1` answer is about one tenant's users and their credentials (the 201 that shows a new app
 * password, once, among them): no browser or proxy may keep a copy. Set before routing, so a route
 * that streams (history) or a problem (sendProblem) sets the same, and none has to remember it.
 */
export const API_PATH = '/v1';

export function noStore(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}
