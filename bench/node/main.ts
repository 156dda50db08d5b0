/**
 * Entry point of the GPU kit (bundled to bench.mjs by scripts/build-gpu-kit.mjs): runs the kernel
 * benchmarks in Node on Dawn and writes one JSON per benchmark, in the format of `npm run bench`
 * (bench/report.mjs) plus the adapter, the runtime and every correctness gate.
 *
 *   node bench.mjs [--quick] [--out DIR] [--only splat,engine] [--dawn FLAG]... [--steps N] [--precision P] [--load-only [--components a,b]]
 *
 * --steps and --precision are the I2V benchmark's (`--only i2v`; default 25 steps, the precision
 * chosen in bench/node/i2v.ts); its pack is GPU_KIT_PACK, else the kit's tiny pack.
 *
 * Exit status: 0 when every gate passed, 1 when any result was wrong (those rows carry no time),
 * 2 when no WebGPU adapter could be opened.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { installWebGpu, openDevice } from './gpu';
import { BENCHMARKS, ONLY_WHEN_NAMED } from './benchmarks';

const RUNTIME = 'node + dawn.node (webgpu npm package)';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'results' },
      only: { type: 'string' },
      dawn: { type: 'string', multiple: true, default: [] },
      steps: { type: 'string' },
      precision: { type: 'string' },
      'load-only': { type: 'boolean', default: false },
      components: { type: 'string' },
    },
  });
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1)) {
    console.error(`--steps must be a whole number of at least 1 (got ${values.steps})`);
    return 2;
  }
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(BENCHMARKS).filter((n) => !ONLY_WHEN_NAMED.has(n));
  const unknown = names.filter((n) => !BENCHMARKS[n]);
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    return 2;
  }
  installWebGpu(values.dawn);
  let opened;
  try {
    opened = await openDevice();
  } catch (e) {
    console.error(
      `No usable WebGPU adapter: ${(e as Error).message}. Check the GPU's Vulkan driver (vulkaninfo), or set VK_ICD_FILENAMES to its ICD json.`,
    );
    return 2;
  }
  const { ctx, adapter } = opened;
  const device =
    [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ') +
    (adapter.isFallbackAdapter ? ' (fallback adapter)' : '');
  console.log(`adapter: ${device} | driver: ${adapter.driver || 'n/a'} | timestamp-query: ${adapter.timestampQuery}`);
  const outDir = resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const name of names) {
    const loadBefore = loadavg();
    const t0 = performance.now();
    const r = await BENCHMARKS[name](ctx, values.quick, {
      steps,
      precision: values.precision,
      loadOnly: values['load-only'],
      components: values.components?.split(',').map((c) => c.trim()),
    });
    const conditions = {
      cpus: cpus().length,
      loadavg_before: loadBefore.slice(0, 2),
      loadavg_after: loadavg().slice(0, 2),
      wall_s: (performance.now() - t0) / 1000,
      quick: values.quick,
      node: process.version,
    };
    const json = {
      name: r.name,
      device,
      runtime: RUNTIME,
      adapter,
      date: new Date().toISOString(),
      conditions,
      gates: r.gates,
      rows: r.rows,
      ...(r.details ? { details: r.details } : {}),
    };
    writeFileSync(join(outDir, `${r.name}.json`), JSON.stringify(json, null, 2) + '\n');
    for (const g of r.gates) {
      console.log(`${g.passed ? 'PASS' : 'FAIL'} ${r.name}: ${g.detail}`);
      if (!g.passed) failed++;
    }
    for (const row of r.rows) {
      const ms = row.ours_ms == null ? 'not timed' : `${row.ours_ms.toPrecision(3)} ms`;
      console.log(
        `  ${row.case}: ${ms} vs ${row.baseline}${row.baseline_ms == null ? '' : ` ${row.baseline_ms.toPrecision(3)} ms`}${row.ratio != null ? ` (${row.ratio.toPrecision(3)}x)` : ''}`,
      );
    }
  }
  ctx.device.destroy();
  console.log(
    failed ? `${failed} correctness gate(s) FAILED: those rows have no time` : `all correctness gates passed; results in ${outDir}`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(3);
  },
);
