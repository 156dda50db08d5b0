// Collects bench/results/*.json into a Markdown table (printed, and written between the
// BENCH-TABLE markers of bench/README.md and the top-level README.md). Each JSON: { name, device, date, rows: [{case, ours_ms, baseline, baseline_ms, ratio, target, note}] }
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
const dir = join(import.meta.dirname, 'results');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
const lines = ['| benchmark | case | ours (ms) | baseline | baseline (ms) | ratio | target | device |', '|---|---|---|---|---|---|---|---|'];
for (const f of files) {
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  for (const row of r.rows) {
    const fmt = (v) => (typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toPrecision(3)) : (v ?? ''));
    lines.push(`| ${r.name} | ${row.case} | ${fmt(row.ours_ms)} | ${row.baseline ?? ''} | ${fmt(row.baseline_ms)} | ${row.ratio != null ? fmt(row.ratio) + 'x' : ''} | ${row.target ?? ''} | ${r.device ?? ''} |`);
  }
}
const table = lines.join('\n');
console.log(table);
for (const readme of [join(import.meta.dirname, 'README.md'), join(import.meta.dirname, '..', 'README.md')]) {
  if (!existsSync(readme)) continue;
  const s = readFileSync(readme, 'utf8');
  const out = s.replace(/<!-- BENCH-TABLE -->[\s\S]*<!-- \/BENCH-TABLE -->/, `<!-- BENCH-TABLE -->\n${table}\n<!-- /BENCH-TABLE -->`);
  writeFileSync(readme, out);
}
