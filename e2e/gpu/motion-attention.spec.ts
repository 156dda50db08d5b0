/**
 * MotionAttention (WGSL) against independent references, in real Chromium WebGPU:
 *  - the plain CPU reference of e2e/reference/attention.ts (materialised interleave, PE added
 *    before the projections, float64 softmax with max subtraction), at several shapes;
 *  - the full chain: "warp tokens, then project" (reference order, CPU splat) versus "project,
 *    warp the projected k|v with the GPU SoftmaxSplat, kernel" (our split), with holes from flows
 *    that leave the image;
 *  - the same math as an ONNX graph (written in the test, e2e/onnx) run by ORT-web's WebGPU EP
 *    on OUR device with GPU-buffer inputs.
 * Error measure: max |got - want| / max |want| (normwise relative).
 */
import { test, expect } from '../fixtures';

interface Case {
  B: number;
  F: number;
  P: number;
  C: number;
  heads: number;
  seed: number;
  /** Fraction of (frame, pixel) warped tokens set to 0 (splat holes). */
  holes?: number;
  /** Token amplitude (large -> large logits). */
  amp?: number;
}

test('matches the CPU reference at several shapes, with holes and huge logits', async ({ harness }) => {
  const cases: Case[] = [
    { B: 1, F: 4, P: 3, C: 32, heads: 8, seed: 1 },
    { B: 2, F: 16, P: 5, C: 64, heads: 8, seed: 2 },
    { B: 1, F: 9, P: 7, C: 32, heads: 2, seed: 3, holes: 0.3 },
    { B: 1, F: 16, P: 2, C: 320, heads: 8, seed: 4, holes: 0.2 }, // real head size 40 (chunked)
    { B: 2, F: 2, P: 4, C: 64, heads: 4, seed: 5, holes: 1 }, // every warped token a hole
    { B: 1, F: 16, P: 3, C: 32, heads: 8, seed: 6, amp: 60, holes: 0.2 }, // |logits| in the hundreds
  ];
  const results = await harness.evaluate(async (cases: Case[]) => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { MotionAttention } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/motionAttention.ts' as string
    )) as typeof import('../../src/gpu/kernels/motionAttention');
    const { sinusoidalPositionTable } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/positionEncoding.ts' as string
    )) as typeof import('../../src/gpu/kernels/positionEncoding');
    const R = (await import(/* @vite-ignore */ '/e2e/reference/attention.ts' as string)) as typeof import('../reference/attention');
    const { device } = await acquireGpu();
    const kernel = new MotionAttention(device);
    const out = [];
    for (const c of cases) {
      const { B, F, P, C, heads } = c;
      const rand = R.rng(c.seed);
      const amp = c.amp ?? 1;
      const tokens = R.randomArray(B * F * P * C, rand, amp);
      const warped = R.randomArray(B * (F - 1) * P * C, rand, amp);
      let holes = 0;
      for (let t = 0; t < B * (F - 1) * P; t++) {
        if (rand() < (c.holes ?? 0)) {
          warped.fill(0, t * C, (t + 1) * C);
          holes++;
        }
      }
      const ws = 1 / Math.sqrt(C);
      const inp = {
        B,
        F,
        P,
        C,
        heads,
        tokens,
        warped,
        wq: R.randomArray(C * C, rand, ws),
        wk: R.randomArray(C * C, rand, ws),
        wv: R.randomArray(C * C, rand, ws),
      };
      const ref = R.motionAttentionReference(inp);
      const split = R.projectForKernel(inp, sinusoidalPositionTable(2 * F - 1, C));
      const qkv = uploadTensor(device, split.qkv, [B, F, P, 3 * C]);
      const wkv = uploadTensor(device, split.warpedKV, [B, F - 1, P, 2 * C]);
      const pe = uploadTensor(device, split.peQKV, [2 * F - 1, 3 * C]);
      const o = kernel.run({ qkv, warped: wkv, pe, heads });
      const got = (await readTensor(device, o)) as Float32Array;
      out.push({ rel: R.relError(got, ref.out), maxLogit: ref.maxLogit, finite: got.every(Number.isFinite), holes, shape: o.shape });
      for (const t of [qkv, wkv, pe, o]) t.buffer.destroy();
    }
    kernel.dispose();
    device.destroy();
    return out;
  }, cases);
  for (const [i, r] of results.entries()) {
    const c = cases[i];
    console.log(`case ${JSON.stringify(c)}: rel ${r.rel.toExponential(2)}, max |logit| ${r.maxLogit.toFixed(1)}, holes ${r.holes}`);
    expect(r.shape).toEqual([c.B, c.F, c.P, c.C]);
    expect(r.finite).toBe(true);
    // fp32 logits carry ~1e-7 * |logit| absolute error, which the softmax passes on: allow for it.
    expect(r.rel).toBeLessThan(1e-5 + 2e-7 * r.maxLogit);
  }
  expect(results[5].maxLogit).toBeGreaterThan(200); // exp(200) overflows fp32: only a stable softmax survives
  expect(results[4].holes).toBe(1 * 1 * 4 * 2); // all B*(F-1)*P warped tokens
});

test('chain: warp-then-project (reference) equals project-then-warp-then-kernel', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { MotionAttention } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/motionAttention.ts' as string
    )) as typeof import('../../src/gpu/kernels/motionAttention');
    const { sinusoidalPositionTable } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/positionEncoding.ts' as string
    )) as typeof import('../../src/gpu/kernels/positionEncoding');
    const { SoftmaxSplat } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/splat.ts' as string
    )) as typeof import('../../src/gpu/kernels/splat');
    const R = (await import(/* @vite-ignore */ '/e2e/reference/attention.ts' as string)) as typeof import('../reference/attention');
    const { device } = await acquireGpu();
    const B = 2,
      F = 6,
      Hh = 5,
      Ww = 7,
      P = Hh * Ww,
      C = 32,
      heads = 8;
    const rand = R.rng(42);
    const tokens = R.randomArray(B * F * P * C, rand);
    // flows 0->i in pixels; up to 3 px, so some land outside (holes at the far side)
    const flows = R.randomArray((F - 1) * 2 * P, rand, 3);
    const ws = 1 / Math.sqrt(C);
    const wq = R.randomArray(C * C, rand, ws),
      wk = R.randomArray(C * C, rand, ws),
      wv = R.randomArray(C * C, rand, ws);

    // Reference order: warp frame 0's tokens, then (inside the reference) interleave, PE, project.
    const warped = new Float32Array(B * (F - 1) * P * C);
    let holePixels = 0;
    for (let b = 0; b < B; b++) {
      const frame0 = tokens.subarray(b * F * P * C, (b * F + 1) * P * C);
      for (let i = 0; i < F - 1; i++) {
        const w = R.splatAvg(frame0, flows.subarray(i * 2 * P, (i + 1) * 2 * P), Hh, Ww, C);
        warped.set(w, (b * (F - 1) + i) * P * C);
        for (let p = 0; p < P; p++) if (w.subarray(p * C, (p + 1) * C).every((x: number) => x === 0)) holePixels++;
      }
    }
    const ref = R.motionAttentionReference({ B, F, P, C, heads, tokens, warped, wq, wk, wv });

    // Our split, as the runtime runs it: project the original tokens ([q|k|v], the ONNX segment),
    // warp frame 0's projected [k|v] on the GPU (SoftmaxSplat, avg, channels-last), then the kernel.
    const proj = R.projectForKernel(
      { B, F, P, C, heads, tokens, warped: new Float32Array(B * (F - 1) * P * C), wq, wk, wv },
      sinusoidalPositionTable(2 * F - 1, C),
    );
    const kv0 = new Float32Array(B * P * 2 * C);
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < P; p++) kv0.set(proj.qkv.subarray((b * F * P + p) * 3 * C + C, (b * F * P + p + 1) * 3 * C), (b * P + p) * 2 * C);
    }
    const splat = new SoftmaxSplat(device);
    const warpedKV = splat.run({
      input: uploadTensor(device, kv0, [B, Hh, Ww, 2 * C]),
      flows: uploadTensor(device, flows, [F - 1, 2, Hh, Ww]),
      mode: 'avg',
      layout: 'hwc',
    }); // [B, F-1, Hh, Ww, 2C]
    const kernel = new MotionAttention(device);
    const o = kernel.run({
      qkv: uploadTensor(device, proj.qkv, [B, F, P, 3 * C]),
      warped: { ...warpedKV, shape: [B, F - 1, P, 2 * C] },
      pe: uploadTensor(device, proj.peQKV, [2 * F - 1, 3 * C]),
      heads,
    });
    const got = (await readTensor(device, o)) as Float32Array;
    device.destroy();
    return { rel: R.relError(got, ref.out), holePixels };
  });
  console.log(`chain: rel ${r.rel.toExponential(2)}, hole pixels ${r.holePixels}`);
  expect(r.holePixels).toBeGreaterThan(0);
  expect(r.rel).toBeLessThan(1e-5);
});

test('equals the same attention as an ONNX graph in ORT-web WebGPU on the shared device', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { createGpuSession, gpuInput } = (await import(/* @vite-ignore */ '/e2e/onnx/ort.ts' as string)) as typeof import('../onnx/ort');
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { MotionAttention } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/motionAttention.ts' as string
    )) as typeof import('../../src/gpu/kernels/motionAttention');
    const { motionAttentionGraph } = (await import(
      /* @vite-ignore */ '/e2e/onnx/attentionGraph.ts' as string
    )) as typeof import('../onnx/attentionGraph');
    const R = (await import(/* @vite-ignore */ '/e2e/reference/attention.ts' as string)) as typeof import('../reference/attention');
    const { device } = await acquireGpu();
    const B = 2,
      F = 16,
      P = 6,
      C = 64,
      heads = 8;
    const rand = R.rng(7);
    const qkv = uploadTensor(device, R.randomArray(B * F * P * 3 * C, rand), [B, F, P, 3 * C]);
    const warpedHost = R.randomArray(B * (F - 1) * P * 2 * C, rand);
    warpedHost.fill(0, 0, 5 * 2 * C); // a few holes
    const warped = uploadTensor(device, warpedHost, [B, F - 1, P, 2 * C]);
    const pe = uploadTensor(device, R.randomArray((2 * F - 1) * 3 * C, rand), [2 * F - 1, 3 * C]);

    const kernel = new MotionAttention(device);
    const ours = (await readTensor(device, kernel.run({ qkv, warped, pe, heads }))) as Float32Array;

    const session = await createGpuSession(motionAttentionGraph({ B, F, P, C, heads }), device);
    const res = await session.run({ qkv: gpuInput(qkv), warped: gpuInput(warped), pe: gpuInput(pe) });
    const outT = res.out;
    const theirs = (await readTensor(device, { buffer: outT.gpuBuffer, shape: [B, F, P, C], dtype: 'float32' })) as Float32Array;
    outT.dispose();
    await session.release();
    device.destroy();
    let maxAbs = 0;
    for (const x of theirs) maxAbs = Math.max(maxAbs, Math.abs(x));
    return { rel: R.relError(ours, theirs), maxAbs };
  });
  console.log(`kernel vs ORT graph: rel ${r.rel.toExponential(2)}`);
  expect(r.maxAbs).toBeGreaterThan(0.1); // ORT produced real numbers, not zeros
  expect(r.rel).toBeLessThan(1e-5);
});

test('splits the grid beyond maxComputeWorkgroupsPerDimension and validates arguments before dispatch', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { uploadTensor, readTensor, createTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { MotionAttention } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/motionAttention.ts' as string
    )) as typeof import('../../src/gpu/kernels/motionAttention');
    const R = (await import(/* @vite-ignore */ '/e2e/reference/attention.ts' as string)) as typeof import('../reference/attention');
    const { device } = await acquireGpu();
    const B = 1,
      F = 3,
      P = 10,
      C = 32,
      heads = 8; // 80 workgroups -> 9 x 9 grid with 1 idle
    const rand = R.rng(11);
    const qkv = uploadTensor(device, R.randomArray(B * F * P * 3 * C, rand), [B, F, P, 3 * C]);
    const warped = uploadTensor(device, R.randomArray(B * (F - 1) * P * 2 * C, rand), [B, F - 1, P, 2 * C]);
    const pe = uploadTensor(device, R.randomArray((2 * F - 1) * 3 * C, rand), [2 * F - 1, 3 * C]);
    const whole = (await readTensor(device, new MotionAttention(device).run({ qkv, warped, pe, heads }))) as Float32Array;
    const split = (await readTensor(
      device,
      new MotionAttention(device, { maxWorkgroupsPerDimension: 9 }).run({ qkv, warped, pe, heads }),
    )) as Float32Array;
    let same = whole.length === split.length;
    for (let i = 0; same && i < whole.length; i++) same = whole[i] === split[i];

    const kernel = new MotionAttention(device);
    const errors: Record<string, { name: string; code: string; kernel: string; argument: string; message: string } | null> = {};
    const attempt = (label: string, args: Record<string, unknown>) => {
      const enc = device.createCommandEncoder();
      try {
        kernel.encode(enc, { qkv, warped, pe, heads, ...args });
        errors[label] = null;
      } catch (e) {
        const err = e as { name: string; code: string; kernel: string; argument: string; message: string };
        errors[label] = { name: err.name, code: err.code, kernel: err.kernel, argument: err.argument, message: err.message };
      }
      enc.finish();
    };
    attempt('warped shape', { warped: { ...warped, shape: [B, F, P, 2 * C] } });
    attempt('heads not dividing C', { heads: 5 });
    attempt('head dim not multiple of 4', { heads: 16 });
    attempt('too many frames', {
      qkv: createTensor(device, [1, 17, 1, 3 * C]),
      warped: createTensor(device, [1, 16, 1, 2 * C]),
      pe: createTensor(device, [33, 3 * C]),
    });
    attempt('pe too short', { pe: { ...pe, shape: [2 * F - 2, 3 * C] } });
    attempt('dtype', { qkv: { ...qkv, dtype: 'int32' } });
    attempt('small buffer', { qkv: { ...qkv, shape: [B, F, P + 1, 3 * C] }, warped: { ...warped, shape: [B, F - 1, P + 1, 2 * C] } });
    attempt('out shape', { out: createTensor(device, [B, F, P, 2 * C]) });
    const tiny = new MotionAttention(device, { maxWorkgroupsPerDimension: 8 }); // 64 < 80 workgroups
    try {
      tiny.encode(device.createCommandEncoder(), { qkv, warped, pe, heads });
      errors['grid'] = null;
    } catch (e) {
      const err = e as { name: string; code: string; kernel: string; argument: string; message: string };
      errors['grid'] = { name: err.name, code: err.code, kernel: err.kernel, argument: err.argument, message: err.message };
    }
    device.destroy();
    return { same, errors };
  });
  expect(r.same).toBe(true);
  const expectArg: Record<string, string> = {
    'warped shape': 'warped',
    'heads not dividing C': 'heads',
    'head dim not multiple of 4': 'heads',
    'too many frames': 'qkv',
    'pe too short': 'pe',
    dtype: 'qkv',
    'small buffer': 'qkv',
    'out shape': 'out',
    grid: 'qkv',
  };
  for (const [label, arg] of Object.entries(expectArg)) {
    const e = r.errors[label];
    expect(e, label).not.toBeNull();
    expect(e!.name, label).toBe('KernelInputError');
    expect(e!.code, label).toBe('kernel-input');
    expect(e!.kernel, label).toBe('MotionAttention');
    expect(e!.argument, label).toBe(arg);
  }
});
