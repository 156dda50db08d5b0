// Finds the system Chromium for Playwright; never downloads a browser.
import { existsSync } from 'node:fs';
const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean);
const found = candidates.find((p) => existsSync(p));
if (!found) {
  console.error(
    'No Chromium found (looked at $CHROME_PATH, /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome).\n' +
      'Install one: on Debian/Ubuntu `sudo apt-get install -y chromium`, or set CHROME_PATH to a Chrome/Chromium 121+ binary.\n' +
      'Do not run `npx playwright install`: the tests use the system browser.',
  );
  process.exit(1);
}
