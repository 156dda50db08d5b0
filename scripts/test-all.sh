#!/usr/bin/env bash
# Runs every suite: TypeScript types, unit tests (vitest), Python (tools/export, pytest),
# browser tests (Playwright + system Chromium with WebGPU). Stops at the first failing suite.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== unit (vitest)"; npx vitest run
echo "== python (pytest)"; bash scripts/test-py.sh
echo "== browser (playwright, real Chromium + WebGPU)"; node scripts/check-chromium.mjs; npx playwright test
