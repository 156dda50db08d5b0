/**
 * The command line's own bundle: cli.html + src/cli/entry.ts, built into dist-cli-bundle/ with
 * the app's plugins and settings (same worker, same ORT files), but never part of the app's
 * bundle. bin/motion-i2v.mjs builds it on first use and serves it on 127.0.0.1.
 */
import { mergeConfig, type UserConfig } from 'vite';
import base from './vite.config';

export const CLI_BUNDLE_DIR = 'dist-cli-bundle';

export default mergeConfig(base as UserConfig, {
  // No sample pictures or test packs: the CLI reads the user's files from its own server.
  publicDir: false,
  build: {
    outDir: process.env.MOTION_I2V_CLI_BUNDLE ?? CLI_BUNDLE_DIR,
    emptyOutDir: true,
    rollupOptions: { input: { cli: 'cli.html' } },
  },
} satisfies UserConfig);
