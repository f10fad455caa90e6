import { existsSync } from 'node:fs';
import { extname, join, posix } from 'node:path';

/** Where `npm run build` puts the console (vite's outDir), relative to the working directory as other paths are. */
export const CONSOLE_DIST_DIR = join('dist', 'console');

/** The URL path the console is served under. */
export const CONSOLE_BASE_PATH = '/console/';

/** What to answer for a path under /console/: a built file, the page itself (SPA routes), or nothing. */
export type ConsoleFile =
  | { kind: 'file'; path: string; cacheControl: string }
  | { kind: 'page'; path: 'index.html'; cacheControl: string }
  | { kind: 'missing' };

/** Vite names every asset by its content hash: it never changes under its name, so it may be kept for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page names the current assets: always asked again (a 304 when unchanged). */
const REVALIDATE = 'no-cache';

/**
 * Maps a request path below /console/ (already stripped of the prefix, still URL-encoded) to what to
 * send. A path without an extension is a route of the single-page app, answered with the page; a path
 * with one names a file, which must exist. Traversal is not resolved here: the file is sent with
 * `root` set to the build folder, which refuses anything outside it.
 */
export function consoleFileFor(relative: string, exists: (path: string) => boolean): ConsoleFile {
  const path = posix.normalize(`/${relative}`).slice(1);
  if (path === '' || extname(path) === '')
    return { kind: 'page', path: 'index.html', cacheControl: REVALIDATE };
  if (path === 'index.html') return { kind: 'page', path, cacheControl: REVALIDATE };
  if (!exists(path)) return { kind: 'missing' };
  return {
    kind: 'file',
    path,
    cacheControl: path.startsWith('assets/') ? IMMUTABLE : 'public, max-age=3600',
  };
}

export const fileExistsUnder =
  (root: string) =>
  (path: string): boolean => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return false;
    }
    return !decoded.split('/').includes('..') && existsSync(join(root, decoded));
  };

/**
 * The console's Content-Security-Policy: scripts, styles and everything else from this origin only,
 * no inline script or style, no framing; the page talks to this API and, when configured, to the OIDC
 * issuer (discovery, token endpoint), and navigates there to sign in.
 */
export function contentSecurityPolicy(issuerOrigin: string | null): string {
  const issuer = issuerOrigin ? ` ${issuerOrigin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${issuer}`,
    `form-action 'self'${issuer}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "manifest-src 'self'",
  ].join('; ');
}
