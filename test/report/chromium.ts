import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium, which `.ci/run` installs; the browser tests fail (not skip) without it. */
export const CHROMIUM = '/usr/bin/chromium';

/** How long one start of Chromium may take before it is killed and started again. */
export const LAUNCH_TIMEOUT_MS = 25_000;

/**
 * A headless Chromium with a fresh profile, no network helpers, no sandbox (CI runs as root). It
 * starts in ~3 s here, but a start now and then hung past the hook's timeout on a loaded machine
 * (the browser never answered on its pipe): such a start is killed and made again, up to 3 times.
 */
export async function launchChromium(): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOnce();
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function launchOnce(): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'tlob-chromium-'));
  // a fresh --user-data-dir: playwright takes it as the persistent context's directory
  let browser: BrowserContext;
  try {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: LAUNCH_TIMEOUT_MS,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What opening a report showed: console errors, requests that were not for the file itself, timings. */
export interface OpenedReport {
  page: Page;
  consoleErrors: string[];
  requests: string[];
  /** ms from navigation start until the report's script had drawn everything. */
  renderMs: number;
}

/** Opens `file` from `file://` and waits until the report's script has drawn it. */
export async function openReport(browser: BrowserContext, file: string, width = 1280): Promise<OpenedReport> {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 900 });
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector('body[data-rendered]', { timeout: 20_000 });
  const renderMs = Date.now() - t0;
  return { page, consoleErrors, requests, renderMs };
}
