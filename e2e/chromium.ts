import { existsSync } from 'node:fs';

/** The system Chromium (never a downloaded one); scripts/check-chromium.mjs explains how to get one. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const p of candidates) if (p && existsSync(p)) return p;
  throw new Error('No Chromium found: apt-get install -y chromium, or set CHROME_PATH.');
}

export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
