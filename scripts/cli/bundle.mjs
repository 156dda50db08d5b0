/**
 * The CLI's page bundle (vite.cli.config.ts -> dist-cli-bundle/): built on first use and again
 * whenever a source file is newer than the build, so `npx motion-i2v` always runs the code of
 * this checkout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const BUNDLE_DIR = process.env.MOTION_I2V_CLI_BUNDLE ?? join(REPO, 'dist-cli-bundle');
const SOURCES = ['src', 'shaders', 'cli.html', 'vite.config.ts', 'vite.cli.config.ts', 'package-lock.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  // A folder's own time changes when a file in it is added or removed.
  let t = s.mtimeMs;
  for (const name of readdirSync(path)) if (!name.endsWith('.test.ts')) t = Math.max(t, newest(join(path, name)));
  return t;
}

/** Builds the bundle when it is missing or older than the sources; throws when the build fails. */
export function ensureBundle(log) {
  const stamp = join(BUNDLE_DIR, 'cli.html');
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  if (built && built >= Math.max(...SOURCES.map((s) => newest(join(REPO, s))))) return;
  log("Building the command line's page bundle (once per change of the sources)...");
  const vite = join(REPO, 'node_modules/vite/bin/vite.js');
  if (!existsSync(vite)) throw new Error('vite is not installed: run `npm ci` in the repository first.');
  const r = spawnSync(process.execPath, [vite, 'build', '-c', 'vite.cli.config.ts', '--logLevel', 'error', '--outDir', BUNDLE_DIR], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error("Building the command line's page bundle failed (see the messages above).");
}
