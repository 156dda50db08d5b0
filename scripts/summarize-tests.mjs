// Totals the suites' machine-readable reports into one closing line: "tests: N passed, N failed, N skipped".
import { readFileSync, existsSync, readdirSync } from 'node:fs';
let passed = 0,
  failed = 0,
  skipped = 0;
const parts = [];
if (existsSync('test-results/vitest.json')) {
  const v = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  skipped += v.numPendingTests + (v.numTodoTests ?? 0);
  parts.push(`vitest ${v.numPassedTests}/${v.numTotalTests}`);
}
if (existsSync('test-results/pytest.xml')) {
  const x = readFileSync('test-results/pytest.xml', 'utf8');
  const m = x.match(/<testsuite\s[^>]*>/)?.[0] ?? '';
  const get = (k) => Number(m.match(new RegExp(`${k}="(\\d+)"`))?.[1] ?? 0);
  const total = get('tests'),
    f = get('failures') + get('errors'),
    s = get('skipped');
  passed += total - f - s;
  failed += f;
  skipped += s;
  parts.push(`pytest ${total - f - s}/${total}`);
}
for (const [file, label] of [
  ['test-results/node.xml', 'node'],
  ['test-results/cli.xml', 'cli'],
]) {
  if (!existsSync(file)) continue;
  // node --test's junit report: one <testcase> per test, <failure> / <skipped> inside it.
  const x = readFileSync(file, 'utf8');
  const cases = x.split('<testcase').slice(1);
  const f = cases.filter((c) => /<failure/.test(c.split('</testcase>')[0])).length;
  const s = cases.filter((c) => /<skipped/.test(c.split('</testcase>')[0])).length;
  passed += cases.length - f - s;
  failed += f;
  skipped += s;
  parts.push(`${label} ${cases.length - f - s}/${cases.length}`);
}
for (const f of existsSync('test-results') ? readdirSync('test-results').filter((n) => /^e2e-\d+\.json$/.test(n)) : []) {
  const r = JSON.parse(readFileSync(`test-results/${f}`, 'utf8'));
  const s = r.stats ?? {};
  passed += (s.expected ?? 0) + (s.flaky ?? 0);
  failed += s.unexpected ?? 0;
  skipped += s.skipped ?? 0;
  parts.push(
    `playwright ${(s.expected ?? 0) + (s.flaky ?? 0)}/${(s.expected ?? 0) + (s.unexpected ?? 0) + (s.flaky ?? 0) + (s.skipped ?? 0)}`,
  );
}
console.log(`\n${parts.join(', ')}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
