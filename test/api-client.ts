// A small HTTP client for e2e tests that drive the API as its clients do: node:http, so that a path
// is sent exactly as written (`../` and odd encodings are not normalised away, as fetch would) and a
// body can be any bytes with any headers. Every response is kept, for checks across a whole suite.
import { request, type IncomingHttpHeaders } from 'node:http';
import { startAppAndWait, type RunningApp } from './app-process';
import { ensureTestKeys } from './tokens';

export interface ApiRequest {
  method?: string;
  /** Sent as written, query string included. */
  path: string;
  /** A bearer token for the Authorization header. */
  token?: string;
  /** Serialised with JSON.stringify and sent as application/json. */
  json?: unknown;
  /** A raw body, sent with whatever headers say (none by default). */
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  request: ApiRequest;
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when the response is JSON (problem+json included), else undefined. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export const PROBLEM_TYPE_BASE = 'https://latchkey.dev/problems/';

export class ApiClient {
  readonly responses: ApiResponse[] = [];

  constructor(readonly port: number) {}

  send(req: ApiRequest): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...req.headers };
    let body = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    if (req.token !== undefined) headers.authorization ??= `Bearer ${req.token}`;
    if (body !== undefined) headers['content-length'] ??= String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const outgoing = request(
        { host: '127.0.0.1', port: this.port, method: req.method ?? 'GET', path: req.path, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const isJson = /json/.test(String(res.headers['content-type'] ?? ''));
            const response: ApiResponse = {
              request: req,
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              body: isJson && text.length > 0 ? JSON.parse(text) : undefined,
            };
            this.responses.push(response);
            resolve(response);
          });
        },
      );
      outgoing.on('error', reject);
      if (body !== undefined) outgoing.write(body);
      outgoing.end();
    });
  }

  get = (path: string, token?: string) => this.send({ method: 'GET', path, token });
  post = (path: string, token?: string, json?: unknown) => this.send({ method: 'POST', path, token, json });
  put = (path: string, token?: string, json?: unknown) => this.send({ method: 'PUT', path, token, json });
  patch = (path: string, token?: string, json?: unknown) => this.send({ method: 'PATCH', path, token, json });
  delete = (path: string, token?: string) => this.send({ method: 'DELETE', path, token });
}

/**
 * Starts the built API on its own port (`npm run build` first) and a client for it. Its Redis keys
 * (rate-limit counts among them) are its own unless `env` names a REDIS_PREFIX: suites all call
 * from 127.0.0.1, and a run must not find the leak-report limit spent by the one before.
 */
export async function startApi(
  port: number,
  env: Record<string, string> = {},
): Promise<{ api: ApiClient; app: RunningApp; stop: () => void }> {
  ensureTestKeys();
  const app = await startAppAndWait(
    'api',
    { API_PORT: String(port), REDIS_PREFIX: `latchkey-e2e-${port}-${process.pid}`, ...env },
    `http://127.0.0.1:${port}/health`,
  );
  const stop = () => {
    if (app.child.exitCode === null) app.child.kill('SIGKILL');
  };
  return { api: new ApiClient(port), app, stop };
}

/** The response is an RFC 9457 problem with this status (and problem type slug, when given). */
export function expectProblem(response: ApiResponse, status: number, slug?: string): void {
  const { request: req, text } = response;
  const seen = { request: `${req.method ?? 'GET'} ${req.path.slice(0, 120)}`, status: response.status };
  expect(seen).toEqual({ ...seen, status });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\/latchkey\.dev\/problems\/./),
  });
  if (slug !== undefined)
    expect({ type: response.body.type, text }).toMatchObject({ type: PROBLEM_TYPE_BASE + slug });
}

/** A problem body without what differs from one request to the next (its path and request id). */
export function problemShape(response: ApiResponse): Record<string, unknown> {
  const {
    instance: _instance,
    requestId: _requestId,
    ...rest
  } = (response.body ?? {}) as Record<string, unknown>;
  return { status: response.status, ...rest };
}
