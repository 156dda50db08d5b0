/**
 * The fp16-activation precisions (fp16, q4f16, q4c8f16) run in ORT itself: its wasm CPU build in Node has fp16
 * kernels, where the WebGPU EP needs the adapter's shader-f16 (SwiftShader in CI has none, so pack-parity cannot
 * run them). The variants are made from the tiny pack's fp32 files by tools/export/quantize.py (the pack does not
 * ship them) and compared with the float64 goldens of the weights they store: fp16 with the fp32 goldens, q4f16
 * with the q4 ones, q4c8f16 with the q4c8 ones (same 4-bit / int8 codes: the exporter rounds every code against
 * the fp32 scale, so only the scales' fp16 rounding, the other weights and the activations differ).
 *
 * Bound (max |ort - golden| / max |golden| per output): 3e-3 for all three. Measured (the three components and two
 * segments): fp16 1.5e-4 .. 2.8e-3 (seg00's kv0_0), q4f16 3.2e-4 .. 2.6e-3 (stage-1 UNet), q4c8f16 2.6e-4 .. 1.7e-3.
 * When the q4f16 codes were rounded against the fp16 scale, a few flipped by one step (3 of the 2,048 code bytes of the time MLP's
 * second layer) and seg00's time embedding missed the q4 golden by 4.0e-2; the bound then had to be 5e-2. These
 * bounds catch a graph ORT cannot load or run, a wrong dequantisation axis, a lost Cast or codes that are not the
 * golden's; the stored values are checked exactly in tools/export/tests/test_precisions.py.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { readMi2g } from '../../e2e/reference/mi2g';

const ROOT = resolve(import.meta.dirname, '../..');
const BASE = resolve(ROOT, 'public/models/tiny');
ort.env.wasm.numThreads = 1;

/** One of each kind (the others are the same ops): Linear only, conv-heavy, the UNet with the ControlNet's inputs. */
const FILES = [
  'text_encoder',
  'vae_decoder',
  'stage1_unet',
  'stage2_unet.seg00', // outputs skips that its own later nodes read
  'stage2_unet.seg01', // a motion-attention segment (kv in, position encoding, attention)
];
const VARIANTS = [
  { precision: 'fp16', golden: '', bound: 3e-3 },
  { precision: 'q4f16', golden: '.q4', bound: 3e-3 },
  { precision: 'q4c8f16', golden: '.q4c8', bound: 3e-3 },
] as const;

const out = mkdtempSync(join(tmpdir(), 'f16variants-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function golden(stem: string) {
  const b = readFileSync(`${BASE}/goldens/${stem}.bin`);
  return readMi2g(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength), stem);
}

describe('fp16-activation variants in ORT (wasm CPU)', () => {
  it('three components and two segments match the goldens of their stored weights', async () => {
    const py = `
import sys, onnx
sys.path.insert(0, ".")
from tools.export.quantize import variant
out, files, precisions = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
for f in files:
    m = onnx.load(f"public/models/tiny/{f}.onnx")
    for p in precisions:
        onnx.save(variant(m, p), f"{out}/{f}.{p}.onnx")
`;
    execFileSync('/usr/bin/python3', ['-c', py, out, FILES.join(','), VARIANTS.map((v) => v.precision).join(',')], { cwd: ROOT });
    const rows: string[] = [];
    const stats: { what: string; rel: number; bound: number }[] = [];
    for (const f of FILES) {
      const stem = f.startsWith('stage2_unet') ? 'stage2_unet' : f;
      const inputs = golden(stem);
      for (const { precision, golden: suffix, bound } of VARIANTS) {
        const want = suffix ? golden(stem + suffix) : inputs;
        const what = `${f}.${precision}`;
        const session = await ort.InferenceSession.create(readFileSync(`${out}/${f}.${precision}.onnx`));
        try {
          const feeds: Record<string, ort.Tensor> = {};
          for (const n of session.inputNames) {
            const t = inputs.tensors.get(n);
            if (!t) throw new Error(`${stem}.bin has no input ${n}`);
            feeds[n] = new ort.Tensor(t.dtype, t.data, t.shape);
          }
          const result = await session.run(feeds);
          for (const n of session.outputNames) {
            const w = want.tensors.get(n);
            expect(w, `${what}: golden has ${n}`).toBeDefined();
            const got = result[n].data as Float32Array;
            expect(got.length, what).toBe(w!.data.length);
            let maxAbs = 0;
            let scale = 0;
            for (let i = 0; i < got.length; i++) {
              maxAbs = Math.max(maxAbs, Math.abs(got[i] - w!.data[i]));
              scale = Math.max(scale, Math.abs(w!.data[i]));
            }
            rows.push(`${what} ${n} rel ${(maxAbs / scale).toExponential(2)}`);
            stats.push({ what: `${what}.${n}`, rel: maxAbs / scale, bound });
          }
        } finally {
          await session.release();
        }
      }
    }
    console.log(rows.join('\n'));
    for (const { what, rel, bound } of stats) expect(rel, what).toBeLessThan(bound); // NaN fails too
  }, 120_000);
});
