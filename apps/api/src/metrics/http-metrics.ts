import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Process metrics and one histogram of request durations by method, route and status. The route
 * label is the route's pattern (`/v1/users/:userId`), never the raw path: ids in paths would grow
 * the label set without bound and put identifiers in a scrape.
 */
@Injectable()
export class HttpMetrics {
  readonly registry = new Registry();
  private readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response, by route pattern and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Express middleware; install it first so that it times requests refused by later middleware too. */
  readonly middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const end = this.duration.startTimer();
    res.once('finish', () =>
      end({ method: req.method ?? 'UNKNOWN', route: routeOf(req), status_code: String(res.statusCode) }),
    );
    next();
  };
}

/** Express records the matched route on the request; unmatched requests share one label. */
function routeOf(req: IncomingMessage): string {
  const { route, baseUrl } = req as { route?: { path?: unknown }; baseUrl?: string };
  return typeof route?.path === 'string' ? `${baseUrl ?? ''}${route.path}` : '(unmatched)';
}
