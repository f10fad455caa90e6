// Drives Debian's Chromium (apt package `chromium`, which `npm test` installs when missing) through
// playwright-core: Playwright's own browser download does not work on these machines.
import { mkdirSync } from 'node:fs';
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
