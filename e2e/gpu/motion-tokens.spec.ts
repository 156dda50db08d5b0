/**
 * MotionTokens (src/gpu/kernels/motionTokens.ts): frame 0's tokens forward-warped to every
 * other frame and interleaved into the kv layout of stage 2's next ONNX segment, checked
 *  - against the CPU reference (e2e/reference/motionTokens.ts, the test oracle's splat loop),
 *    both frame-0 batch modes, both gather forms of the splat (C < 64 and C >= 64), a 2D grid.
 * (The stage-2 plan now warps the projected [k | v] and runs MotionAttention instead:
 * e2e/gpu/motion-attention-chain.spec.ts checks that chain against the pack's goldens.)
 * Tolerance: |gpu - ref| <= 1e-5 * max(1, |ref|) per element (compareArrays).
 */
import { test, expect } from '../fixtures';

test('matches the CPU reference: both frame-0 batch modes, both gather forms, a 2D grid', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { uploadTensor, readTensor, createTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { MotionTokens } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/motionTokens.ts' as string
    )) as typeof import('../../src/gpu/kernels/motionTokens');
    const { motionTokensReference } = (await import(
      /* @vite-ignore */ '/e2e/reference/motionTokens.ts' as string
    )) as typeof import('../reference/motionTokens');
    const { compareArrays, rng } = (await import(
      /* @vite-ignore */ '/e2e/reference/splat.ts' as string
    )) as typeof import('../reference/splat');
    const { device } = await acquireGpu();
    const cases = [
      { name: 'B2 F4 5x7 C12 same', B: 2, F: 4, h: 5, w: 7, C: 12, frame0Batch: 'same', cap: undefined },
      { name: 'B2 F4 5x7 C12 reference_quirk', B: 2, F: 4, h: 5, w: 7, C: 12, frame0Batch: 'reference_quirk', cap: undefined },
      { name: 'B3 F3 4x6 C64 (channel-lane gather), 2D grid', B: 3, F: 3, h: 4, w: 6, C: 64, frame0Batch: 'reference_quirk', cap: 5 },
      { name: 'B1 F2 3x3 C3 same', B: 1, F: 2, h: 3, w: 3, C: 3, frame0Batch: 'same', cap: undefined },
    ] as const;
    const out: Record<string, { bad: number; worst: number; sentinelLeft: number }> = {};
    device.pushErrorScope('validation');
    for (const c of cases) {
      const rand = rng(c.B * 100 + c.C);
      const tok = new Float32Array(c.B * c.F * c.h * c.w * c.C).map(() => rand() * 2 - 1);
      // Flows up to 2.5 px, some pixels pushed off the grid, one frame of collisions.
      const flows = new Float32Array(c.F * 2 * c.h * c.w).map(() => (rand() * 2 - 1) * 2.5);
      const kernel = new MotionTokens(device, { maxWorkgroupsPerDimension: c.cap });
      const kv = uploadTensor(device, new Float32Array(c.B * (2 * c.F - 1) * c.h * c.w * c.C).fill(-777), [
        c.B,
        2 * c.F - 1,
        c.h,
        c.w,
        c.C,
      ]);
      kernel.run({
        tok: uploadTensor(device, tok, [c.B * c.F, c.h, c.w, c.C]),
        flows: uploadTensor(device, flows, [c.F, 2, c.h, c.w]),
        frames: c.F,
        frame0Batch: c.frame0Batch,
        kv,
      });
      const got = (await readTensor(device, kv)) as Float32Array;
      const want = motionTokensReference({ tok, flows, B: c.B, F: c.F, h: c.h, w: c.w, C: c.C, frame0Batch: c.frame0Batch });
      const cmp = compareArrays(got, want);
      out[c.name] = { bad: cmp.bad, worst: cmp.worst, sentinelLeft: got.filter((v) => v === -777).length };
      kernel.dispose();
    }
    // A kv created by the kernel has the documented shape.
    const k2 = new MotionTokens(device);
    const made = k2.run({ tok: createTensor(device, [4, 2, 2, 4]), flows: createTensor(device, [2, 2, 2, 2]), frames: 2 });
    const err = await device.popErrorScope();
    device.destroy();
    return { out, madeShape: made.shape, err: err?.message ?? null };
  });
  expect(r.err).toBeNull();
  expect(r.madeShape).toEqual([2, 3, 2, 2, 4]);
  for (const [name, v] of Object.entries(r.out)) {
    console.log(`${name}: worst ratio ${v.worst.toFixed(3)}`);
    expect(v.bad, name).toBe(0);
    expect(v.sentinelLeft, `${name}: every kv element written`).toBe(0);
  }
});
