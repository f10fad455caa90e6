import { consoleFileFor, contentSecurityPolicy } from './console-files';

const built = new Set(['index.html', 'assets/index-abc123.js', 'favicon.svg']);
const exists = (path: string) => built.has(path);

describe('console files', () => {
  it('answers the page for the root and for any route of the single-page app', () => {
    for (const path of ['', 'admin', 'auditor/timeline', 'callback'])
      expect(consoleFileFor(path, exists)).toEqual({
        kind: 'page',
        path: 'index.html',
        cacheControl: 'no-cache',
      });
  });

  it('keeps hashed assets for good and revalidates the rest', () => {
    expect(consoleFileFor('assets/index-abc123.js', exists)).toMatchObject({
      kind: 'file',
      cacheControl: 'public, max-age=31536000, immutable',
    });
    expect(consoleFileFor('favicon.svg', exists)).toMatchObject({
      kind: 'file',
      cacheControl: 'public, max-age=3600',
    });
  });

  it('answers nothing for a file that is not built, instead of the page', () => {
    expect(consoleFileFor('assets/gone-123.js', exists)).toEqual({ kind: 'missing' });
    expect(consoleFileFor('../../package.json', exists)).toEqual({ kind: 'missing' });
  });

  it('allows scripts from this origin only, and the issuer only where signing in needs it', () => {
    const csp = contentSecurityPolicy('https://login.example.com');
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("connect-src 'self' https://login.example.com");
    expect(contentSecurityPolicy(null)).toContain("connect-src 'self';");
  });
});
