// Drives Debian's Chromium (apt package `chromium`, which `npm test` installs when missing) through
// playwright-core: Playwright's own browser download does not work on these machines.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Ignored by git (.gitignore: test-output/). */
export const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'console');

export function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // As root (CI, these machines) Chromium refuses to start with its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A refusal the page is expected to receive from the API (the browser logs each as a console error). */
export interface ExpectedRefusal {
  status: number;
  path: RegExp;
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Every console error and uncaught exception, except the API refusals the test announced. */
  errors: string[];
  expectRefusal(refusal: ExpectedRefusal): void;
  screenshot(name: string): Promise<void>;
}

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

/**
 * A fresh browser context. Console errors count while the page shows `origin` (the console); an
 * identity provider's own pages, visited while signing in, are not ours to judge.
 */
export async function openPage(
  browser: Browser,
  options: { origin: string; phone?: boolean },
): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: options.phone ? PHONE : DESKTOP,
    acceptDownloads: true,
    isMobile: options.phone ?? false,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const expected: ExpectedRefusal[] = [];
  const announced = (message: ConsoleMessage) => {
    // Chromium reports every 4xx/5xx answer as "Failed to load resource: … status of 403 (Forbidden)".
    const match = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(
      message.text(),
    );
    if (!match) return false;
    const url = new URL(message.location().url);
    return expected.some((e) => e.status === Number(match[1]) && e.path.test(url.pathname));
  };
  const ours = () => new URL(page.url()).origin === new URL(options.origin).origin;
  page.on('console', (message) => {
    if (message.type() === 'error' && ours() && !announced(message))
      errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => ours() && errors.push(`uncaught: ${error.message}`));
  return {
    context,
    page,
    errors,
    expectRefusal: (refusal) => expected.push(refusal),
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
  };
}

/** The WCAG 2.1 A and AA rules of axe-core (Deque's engine), the level the console promises. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeResult {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core over the page as it is now and fails, listing each finding (rule, impact, the elements
 * it found), unless there is none. `state` names the page state in the failure.
 *
 * axe is evaluated through the DevTools protocol rather than added as a <script> tag: the console's
 * Content-Security-Policy (script-src 'self') refuses inline script, and Playwright's addScriptTag
 * inserts the file's text inline, which the page refuses and logs as a console error. Evaluation by the
 * protocol is not subject to the page's CSP, so the page is checked as served, under its real policy.
 *
 * What axe could not decide ("incomplete", needs review) fails too, except colour contrast: axe cannot
 * compute the background of text clipped by a scrolling table on a phone or drawn inside an SVG, and
 * gives up there rather than judge; those colours are the stylesheet's, checked where axe can see them.
 */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  if (!(await page.evaluate('typeof window.axe === "object"')))
    await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const { violations, undecided } = (await page.evaluate(`
    axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_21_AA)} } }).then((r) => {
      const brief = (v) => ({ id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.map((n) => JSON.stringify(n.target)) });
      return { violations: r.violations.map(brief),
        undecided: r.incomplete.filter((v) => v.id !== 'color-contrast').map(brief) };
    })`)) as { violations: AxeResult[]; undecided: AxeResult[] };
  const found = [
    ...violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(', ')}`),
    ...undecided.map((v) => `${v.id} (needs review): ${v.help} — ${v.targets.join(', ')}`),
  ];
  if (found.length > 0) throw new Error(`axe, on the ${state}:\n${found.join('\n')}`);
}
