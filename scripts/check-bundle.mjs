#!/usr/bin/env node
/**
 * The production bundle holds no test hooks: `window.__motionI2V` and the worker's simulated
 * device loss exist only in dev and test builds (the build mode decides at compile time).
 *
 *   node scripts/check-bundle.mjs <production-dir> [<test-build-dir>]
 *
 * Fails if any built file of <production-dir> names a hook. With <test-build-dir> (a
 * `vite build --mode e2e` output, as Playwright's app tests use) it also fails if that build
 * LACKS the hooks, which shows the search itself finds them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const HOOKS = ['__motionI2V', 'simulate-device-loss', 'simulateGpuLoss', 'simulate-fault'];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** Hook names found in the built code (source maps excluded: they quote every source). */
function hooksIn(dir) {
  const found = new Map();
  for (const f of files(dir)) {
    if (!/\.(m?js|html)$/.test(f)) continue;
    const text = readFileSync(f, 'utf8');
    for (const h of HOOKS) if (text.includes(h)) found.set(h, [...(found.get(h) ?? []), f]);
  }
  return found;
}

const [prod, testBuild] = process.argv.slice(2);
if (!prod) {
  console.error('usage: check-bundle.mjs <production-dir> [<test-build-dir>]');
  process.exit(2);
}
let ok = true;
const leaked = hooksIn(prod);
for (const [h, where] of leaked) {
  console.error(`test hook ${h} is in the production bundle: ${where.join(', ')}`);
  ok = false;
}
if (testBuild) {
  const present = hooksIn(testBuild);
  for (const h of HOOKS) {
    if (!present.has(h)) {
      console.error(`test build ${testBuild} lacks ${h}: the check cannot tell a leak from a missing hook`);
      ok = false;
    }
  }
}
if (ok) console.log(`production bundle ${prod}: no test hooks${testBuild ? ` (the test build ${testBuild} has all ${HOOKS.length})` : ''}`);
process.exit(ok ? 0 : 1);
