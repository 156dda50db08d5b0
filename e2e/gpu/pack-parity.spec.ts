/**
 * The tiny model pack (public/models/tiny, made by `python3 -m tools.export.make_tiny`) runs in
 * ORT-web's native WebGPU EP on the app's shared device and reproduces the PyTorch goldens.
 *
 * This is the proof that the exported ONNX is right: the goldens are computed by the PyTorch
 * reference in float64 (tools/export), independently of ONNX export and of ORT. Every component
 * and every stage-2 segment is fed its golden inputs (segments: the tensors the float64 reference
 * computed at the segment boundary, so errors do not accumulate across segments) and its outputs
 * are compared with the golden outputs.
 *
 * Bounds (max |ort - golden| / max |golden| per output):
 *  - fp32: 1e-4 (float32 arithmetic vs the float64 reference; measured about 1e-6).
 *  - q8 (weight-only int8, per output channel): 5e-2. Each weight is off by at most half a step,
 *    scale/2 = max|w_row|/254, i.e. up to 0.4 % of the row's largest weight; through a
 *    dozen layers of random (untrained) weights that grows to a few percent at most.
 *  - q4 (4-bit MatMulNBits, block 32, fp32 scales, Linear layers only): 2e-1. A 4-bit step is
 *    max|w_block|/7.5 (asymmetric, 16 levels), so the per-weight error is ~18x that of q8.
 *    The bound is loose on purpose: what this test proves for q4 is that ORT-web runs the
 *    MatMulNBits graphs and computes the same function (a wrong block layout gives O(1) errors).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-web/webgpu';
import { test, expect } from '../fixtures';

interface Stat {
  component: string;
  precision: string;
  output: string;
  maxAbs: number;
  scale: number;
  rel: number;
  nonFinite: number;
  /** Session creation / run failure (e.g. an unsupported op); the test fails with it. */
  error?: string;
}

const PRECISIONS = ['fp32', 'q8', 'q4'] as const;
const BOUND: Record<string, number> = { fp32: 1e-4, q8: 5e-2, q4: 2e-1 };

/**
 * Runs every component in every precision on one page and one device, precisions of a component back to
 * back: SwiftShader compiles each new WGSL pipeline on the CPU, and ORT reuses compiled kernels across the
 * sessions of a device, so this order compiles each kernel once.
 */
async function runAll(harness: import('@playwright/test').Page, precisions: readonly string[]): Promise<Stat[]> {
  harness.on('console', (m) => {
    if (m.text().startsWith('[pack-parity]')) console.log(m.text());
  });
  // Minutes of SwiftShader work must not be cut short by a Vite full reload when someone edits a file the
  // page imported (shared working tree): answer the HMR socket ourselves so no update ever arrives.
  await harness.routeWebSocket(/.*/, () => {});
  await harness.reload();
  return harness.evaluate(async (precisions) => {
    const { ort } = await import(/* @vite-ignore */ '/e2e/onnx/ort.ts' as string);
    const { acquireGpu } = await import(/* @vite-ignore */ '/src/gpu/device.ts' as string);
    const { readMi2g, compare } = await import(/* @vite-ignore */ '/e2e/reference/mi2g.ts' as string);
    const base = '/models/tiny/';
    // The dev server may restart while another engineer edits its config (shared tree): retry network errors.
    const get = async (rel: string): Promise<ArrayBuffer> => {
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await fetch(base + rel);
          if (!r.ok) throw new Error(`GET ${base + rel}: ${r.status}`);
          return await r.arrayBuffer();
        } catch (e) {
          if (attempt >= 5 || String(e).includes('GET ')) throw e;
          await new Promise((res) => setTimeout(res, 3000));
        }
      }
    };
    const manifest = JSON.parse(new TextDecoder().decode(await get('manifest.json')));
    for (const p of precisions) if (!manifest.precisions.includes(p)) throw new Error(`pack has no ${p} variant`);
    const { device } = await acquireGpu();
    const stats: Stat[] = [];

    type G = ReturnType<typeof readMi2g>;
    type Spec = { name: string }[];
    const runOne = async (component: string, precision: string, files: { path: string }[], inputs: Spec, outputs: Spec, golden: G) => {
      const t0 = performance.now();
      let session: InferenceSession | undefined;
      let t1 = t0;
      let t2 = t0;
      const mine: Stat[] = [];
      try {
        const model = new Uint8Array(await get(files[0].path));
        const created = await ort.InferenceSession.create(model, {
          executionProviders: [{ name: 'webgpu', device } as unknown as InferenceSession.WebGpuExecutionProviderOption],
          preferredOutputLocation: 'gpu-buffer',
        });
        session = created;
        const feeds: Record<string, Tensor> = {};
        for (const { name } of inputs) {
          const g = golden.tensors.get(name);
          if (!g) throw new Error(`golden has no input ${name}`);
          feeds[name] = new ort.Tensor(g.dtype, g.data, g.shape);
        }
        t1 = performance.now();
        const result = await created.run(feeds);
        t2 = performance.now();
        for (const { name } of outputs) {
          const want = golden.tensors.get(name);
          if (!want) throw new Error(`golden has no output ${name}`);
          const t = result[name];
          if (!t) throw new Error(`session gave no output ${name}`);
          if (t.dims.join(',') !== want.shape.join(',')) throw new Error(`${name}: shape [${t.dims}] != golden [${want.shape}]`);
          const got = (await t.getData(true)) as Float32Array;
          mine.push({ component, precision, output: name, ...compare(got, want.data) });
        }
      } catch (e) {
        mine.push({ component, precision, output: '-', maxAbs: NaN, scale: NaN, rel: NaN, nonFinite: 0, error: String(e) });
      }
      await session?.release();
      const worst = mine.reduce((a, b) => (b.rel > a.rel || Number.isNaN(b.rel) ? b : a));
      console.log(
        `[pack-parity] ${precision.padEnd(4)} ${component.padEnd(22)} ` +
          (worst.error
            ? `ERROR ${worst.error}`
            : `worst ${worst.output.padEnd(17)} maxAbs ${worst.maxAbs.toExponential(2)} scale ${worst.scale.toExponential(2)} rel ${worst.rel.toExponential(2)}`) +
          `  (create ${(t1 - t0).toFixed(0)} ms, run ${(t2 - t1).toFixed(0)} ms)`,
      );
      stats.push(...mine);
    };

    const comps = manifest.components as Record<string, any>;
    for (const [name, c] of Object.entries(comps)) {
      if (name === 'stage2_unet') continue;
      const golden = readMi2g(await get(`goldens/${name}.bin`), name);
      for (const p of precisions) await runOne(name, p, c.files[p], c.inputs, c.outputs, golden);
    }
    const golden2 = readMi2g(await get('goldens/stage2_unet.bin'), 'stage2_unet');
    for (const seg of comps.stage2_unet.segments) {
      const name = `stage2_unet.seg${String(seg.index).padStart(2, '0')}`;
      for (const p of precisions) await runOne(name, p, seg.files[p], seg.inputs, seg.outputs, golden2);
    }
    device.destroy();
    return stats;
  }, precisions);
}

test('tiny pack: every component and stage-2 segment, fp32 / q8 / q4, matches the PyTorch goldens in ORT-web WebGPU', async ({ harness }) => {
  // Dominated by SwiftShader compiling ORT's kernels (about 80 distinct pipelines); see the report in the
  // file header for measured times.
  test.setTimeout(900_000);
  const t0 = Date.now();
  const stats = await runAll(harness, PRECISIONS);
  console.log(`pack-parity: ${stats.length} outputs checked in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const p of PRECISIONS) {
    // 7 components + 15 segments per precision: nothing silently skipped
    expect(new Set(stats.filter((s) => s.precision === p).map((s) => s.component)).size, p).toBe(7 + 15);
  }
  for (const s of stats) {
    const what = `${s.component}.${s.output} (${s.precision})`;
    expect(s.error, what).toBeUndefined();
    expect(s.nonFinite, `${what}: non-finite values`).toBe(0);
    expect(s.scale, `${what}: golden is all zeros`).toBeGreaterThan(0);
    expect(s.rel, `${what}: max abs ${s.maxAbs} vs scale ${s.scale}`).toBeLessThan(BOUND[s.precision]);
  }
});
