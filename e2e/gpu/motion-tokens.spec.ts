/**
 * MotionTokens (src/gpu/kernels/motionTokens.ts): frame 0's tokens forward-warped to every
 * other frame and interleaved into the kv layout of stage 2's next ONNX segment, checked
 *  - against the CPU reference (e2e/reference/motionTokens.ts, the test oracle's splat loop),
 *    both frame-0 batch modes, both gather forms of the splat (C < 64 and C >= 64), a 2D grid;
 *  - as the whole browser chain against the tiny pack's PyTorch goldens: the golden pixel
 *    flows -> FlowResize -> MotionTokens(tok_k) must equal kv_k for every motion-augmented
 *    attention of the stage-2 UNet call (goldens/stage2_unet.bin), and so must the same step
 *    through bins prepared once per resolution, bit for bit. The same chain with the
 *    authors' batch mixing, or with the flows negated, must NOT match (the check can fail).
 * Tolerance: |gpu - ref| <= 1e-5 * max(1, |ref|) per element (compareArrays), and for the
 * goldens max |gpu - golden| <= 1e-5 of the golden's largest magnitude.
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

test("flow resize -> frame-0 splat -> interleave reproduces the tiny pack's PyTorch kv goldens", async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { MotionTokens } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/motionTokens.ts' as string
    )) as typeof import('../../src/gpu/kernels/motionTokens');
    const { FlowResize } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/flowResize.ts' as string
    )) as typeof import('../../src/gpu/kernels/flowResize');
    const { readMi2g, compare } = (await import(
      /* @vite-ignore */ '/e2e/reference/mi2g.ts' as string
    )) as typeof import('../reference/mi2g');
    const res = await fetch('/models/tiny/goldens/stage2_unet.bin');
    if (!res.ok) throw new Error(`GET stage2_unet.bin: ${res.status}`);
    const golden = readMi2g(await res.arrayBuffer(), 'stage2_unet.bin');
    const { device } = await acquireGpu();
    device.pushErrorScope('validation');
    const flow = golden.tensors.get('flow')!;
    const F = flow.shape[0];
    const flowT = uploadTensor(device, flow.data as Float32Array, flow.shape);
    const negated = uploadTensor(
      device,
      (flow.data as Float32Array).map((v) => -v),
      flow.shape,
    );
    const resize = new FlowResize(device);
    const tokens = new MotionTokens(device);
    const rows: {
      name: string;
      shape: number[];
      rel: number;
      quirkRel: number;
      negatedRel: number;
      flowRel: number;
      binsBitEqual: boolean;
    }[] = [];
    // Bins of each resolution's flows, built once and shared by every attention at that size.
    const binsBySize = new Map<string, import('../../src/gpu/kernels/splat').SplatBins>();
    for (let k = 0; golden.tensors.has(`tok_${k}`); k++) {
      const tok = golden.tensors.get(`tok_${k}`)!;
      const want = golden.tensors.get(`kv_${k}`)!;
      const [, h, w] = tok.shape;
      const resized = resize.run({ flows: flowT, height: h, width: w });
      const flowGolden = golden.tensors.get(`flow_${h}x${w}`)!;
      const flowRel = compare((await readTensor(device, resized)) as Float32Array, flowGolden.data).rel;
      const tokT = uploadTensor(device, tok.data as Float32Array, tok.shape);
      const run = async (frame0Batch: 'same' | 'reference_quirk', flows = resized) =>
        compare((await readTensor(device, tokens.run({ tok: tokT, flows, frames: F, frame0Batch }))) as Float32Array, want.data).rel;
      if (!binsBySize.has(`${h}x${w}`)) {
        const enc = device.createCommandEncoder();
        binsBySize.set(`${h}x${w}`, tokens.prepareFlows(enc, resized));
        device.queue.submit([enc.finish()]);
      }
      const direct = (await readTensor(device, tokens.run({ tok: tokT, flows: resized, frames: F }))) as Float32Array;
      const viaBins = (await readTensor(device, tokens.run({ tok: tokT, flows: binsBySize.get(`${h}x${w}`)!, frames: F }))) as Float32Array;
      rows.push({
        name: `kv_${k}`,
        shape: want.shape,
        flowRel,
        binsBitEqual: direct.length === viaBins.length && direct.every((v, i) => Object.is(v, viaBins[i])),
        rel: await run('same'),
        quirkRel: await run('reference_quirk'),
        negatedRel: await run('same', resize.run({ flows: negated, height: h, width: w })),
      });
    }
    const err = await device.popErrorScope();
    tokens.dispose();
    device.destroy();
    return { rows, err: err?.message ?? null, F, batch: golden.tensors.get('kv_0')!.shape[0] };
  });
  expect(r.err).toBeNull();
  expect(r.rows.length, 'motion-augmented attentions in the golden').toBeGreaterThan(0);
  expect(r.batch, 'the golden is a B = 2 call, so the frame-0 batch mode matters').toBe(2);
  for (const row of r.rows) {
    console.log(
      `${row.name} ${JSON.stringify(row.shape)}: rel ${row.rel.toExponential(2)} (flow ${row.flowRel.toExponential(2)}); reference_quirk ${row.quirkRel.toExponential(2)}, negated flows ${row.negatedRel.toExponential(2)}`,
    );
    expect(row.flowRel, `${row.name}: resized flow`).toBeLessThan(1e-5);
    expect(row.rel, row.name).toBeLessThan(1e-5);
    expect(row.binsBitEqual, `${row.name}: through prepared bins, bit for bit`).toBe(true);
    expect(row.quirkRel, `${row.name}: the authors' batch mixing must differ from the 'same' golden`).toBeGreaterThan(1e-2);
    expect(row.negatedRel, `${row.name}: warping with the wrong flow direction must not match`).toBeGreaterThan(1e-2);
  }
});
