/**
 * Headless Chromium (the system one, never a downloaded browser) with WebGPU, on the CLI's page.
 * The flags are e2e/chromium.ts's (scripts/cli.test.mjs checks that they stay the same).
 */
import { existsSync } from 'node:fs';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function chromiumPath() {
  const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const p of candidates) if (p && existsSync(p)) return p;
  return null;
}

/** Opens the CLI page; `onProgress(stage, fraction)` follows the running call. */
export async function openCliPage({ origin, onProgress, verbose }) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: apt-get install -y chromium, or set CHROME_PATH.');
  const { chromium } = await import('@playwright/test');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (verbose || m.type() === 'error') process.stderr.write(`[page ${m.type()}] ${m.text()}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
    await page.exposeFunction('motionI2VCliProgress', (stage, fraction) => onProgress?.(stage, fraction));
    await page.goto(`${origin}/cli.html`);
    await page.waitForFunction(() => window.motionI2VCli !== undefined, null, { timeout: 60_000 });
    return {
      page,
      call: (method, request) => page.evaluate(([m, r]) => window.motionI2VCli[m](r), [method, request]),
      close: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
