// Collects bench/results/*.json into a Markdown table (printed, and written between the
// BENCH-TABLE markers of bench/README.md and the top-level README.md). Each JSON: { name, device, date, rows: [{case, ours_ms, baseline, baseline_ms, ratio, target, note}] }
// Quality results ({ name, device, date, target, quality: [{case, method, psnr_db, gradient_ratio}] })
// go into a second table between the QUALITY-TABLE markers.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
const dir = join(import.meta.dirname, 'results');
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];
const lines = [
  '| benchmark | case | ours (ms) | baseline | baseline (ms) | ratio | target | device |',
  '|---|---|---|---|---|---|---|---|',
];
for (const f of files) {
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  for (const row of r.rows ?? []) {
    const fmt = (v) => (typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toPrecision(3)) : (v ?? ''));
    lines.push(
      `| ${r.name} | ${row.case} | ${fmt(row.ours_ms)} | ${row.baseline ?? ''} | ${fmt(row.baseline_ms)} | ${row.ratio != null ? fmt(row.ratio) + 'x' : ''} | ${row.target ?? ''} | ${r.device ?? ''} |`,
    );
  }
}
const table = lines.join('\n');
console.log(table);
const quality = ['| benchmark | case | method | PSNR (dB) | gradient ratio | target | device |', '|---|---|---|---|---|---|---|'];
for (const f of files) {
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  for (const q of r.quality ?? [])
    quality.push(
      `| ${r.name} | ${q.case} | ${q.method} | ${q.psnr_db.toFixed(2)} | ${q.gradient_ratio.toFixed(2)} | ${r.target ?? ''} | ${r.device ?? ''} |`,
    );
}
const qualityTable = quality.join('\n');
console.log(`\n${qualityTable}`);
for (const readme of [join(import.meta.dirname, 'README.md'), join(import.meta.dirname, '..', 'README.md')]) {
  if (!existsSync(readme)) continue;
  const s = readFileSync(readme, 'utf8');
  const out = s
    .replace(/<!-- BENCH-TABLE -->[\s\S]*<!-- \/BENCH-TABLE -->/, `<!-- BENCH-TABLE -->\n${table}\n<!-- /BENCH-TABLE -->`)
    .replace(/<!-- QUALITY-TABLE -->[\s\S]*<!-- \/QUALITY-TABLE -->/, `<!-- QUALITY-TABLE -->\n${qualityTable}\n<!-- /QUALITY-TABLE -->`);
  writeFileSync(readme, out);
}
