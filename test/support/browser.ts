// A real browser for the dashboard's tests: Debian's chromium driven by playwright-core (which
// cannot download a browser of its own here), headless, with a fresh profile per launch. Where no
// chromium is installed the tests that need it are skipped with a message saying so.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';

const CANDIDATES = [
  process.env['HANZENET_CHROMIUM'],
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
];

/** The chromium to use, or null when none is installed. */
export function chromiumPath(): string | null {
  for (const path of CANDIDATES)
    if (path !== undefined && path !== '' && existsSync(path)) return path;
  return null;
}

/** The `skip` option of a browser test: false, or why it does not run. */
export function browserSkip(): false | string {
  return chromiumPath() === null
    ? 'no chromium found (looked for /usr/bin/chromium; set HANZENET_CHROMIUM): the dashboard browser tests are skipped'
    : false;
}

export interface Browser {
  readonly context: BrowserContext;
  /** A new page whose console errors and page errors are collected in `errors`. */
  newPage(viewport?: { width: number; height: number }): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface WatchedPage {
  readonly page: Page;
  readonly errors: string[];
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === null) throw new Error('no chromium installed');
  const profile = await mkdtemp(join(tmpdir(), 'hz-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 900 },
    timezoneId: 'Europe/Amsterdam',
    locale: 'en-GB',
  });
  return {
    context,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport !== undefined) await page.setViewportSize(viewport);
      const errors: string[] = [];
      page.on('console', (m: ConsoleMessage) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (err) => errors.push(`page: ${err.message}`));
      page.on('requestfailed', (r) =>
        errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`),
      );
      return { page, errors };
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
