/**
 * Debian's Chromium driven by playwright-core, for the dashboard's browser tests: headless, no
 * sandbox (tests run as root in containers), nothing that calls out to the network, and a fresh
 * profile each launch. Without /usr/bin/chromium the tests skip with the reason, and fail under CI
 * (`.ci/run` installs it). Pages record their console errors and failed requests so a test can
 * assert there were none. Screenshots go to test/output/dashboard (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SHOAL_CHROMIUM ?? '/usr/bin/chromium';
export const NO_CHROMIUM = `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium; CI fails instead of skipping)`;
export const SCREENSHOTS = resolve(import.meta.dirname, '../output/dashboard');

/** Whether the browser tests can run; under CI a missing Chromium is an error, not a skip. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(NO_CHROMIUM);
  return false;
}

export interface Browser {
  context: BrowserContext;
  /** A new page whose console errors and failed requests are collected in `problems`. */
  page(): Promise<TrackedPage>;
  /** Saves a full-page screenshot as test/output/dashboard/<name>.png. */
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export interface TrackedPage {
  page: Page;
  /** Console errors, page errors and failed requests seen so far. */
  problems: string[];
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'shoal-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    async page() {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => {
        // A stream the page closes on navigation is not a failure.
        if (!r.url().includes('/stream')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
      });
      return { page, problems };
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
