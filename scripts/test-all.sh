#!/usr/bin/env bash
# Runs every suite: TypeScript types, unit tests (vitest), Python (tools/export, pytest),
# browser tests (Playwright + system Chromium with WebGPU). Every suite runs even when an
# earlier one fails; the exit code is non-zero if any failed, and the last line totals them.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
rm -f test-results/vitest.json test-results/pytest.xml test-results/node.xml test-results/cli.xml test-results/e2e-*.json
status=0
run() { local name=$1; shift; echo; echo "== $name"; "$@" || { echo "!! $name failed"; status=1; }; }
run typecheck npx tsc --noEmit -p tsconfig.json
run "format + lint (biome)" npx biome ci --max-diagnostics=50 .
run "unit (vitest)" npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
run "production bundle has no test hooks" bash -c 'npx vite build --logLevel warn --outDir dist-production && npx vite build --mode e2e --logLevel warn --outDir dist-e2e-check && node scripts/check-bundle.mjs dist-production dist-e2e-check'
run "GPU kit (node, Dawn on SwiftShader)" node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter=junit --test-reporter-destination=test-results/node.xml scripts/gpu-kit.test.mjs
run "command line (node, headless Chromium + WebGPU)" node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter=junit --test-reporter-destination=test-results/cli.xml scripts/cli.test.mjs
run "python (pytest)" bash scripts/test-py.sh --junitxml=test-results/pytest.xml
if node scripts/check-chromium.mjs; then
  run "browser (playwright, real Chromium + WebGPU)" npx playwright test
else
  status=1
fi
node scripts/summarize-tests.mjs || status=1
exit $status
