/**
 * The WGSL part of every stage-2 cut (tools/export/README.md "Stage-2 cut") as the plan runs it,
 * against the tiny pack's PyTorch goldens (goldens/stage2_unet.bin, float64): the golden pixel
 * flows -> FlowResize -> bins -> SoftmaxSplat gather of the segment's frame-0 [k | v] (kv0_k,
 * 'hwc', 2C channels) must equal warped_k, and MotionAttention(qkv_k, that warped, pe_k) must equal
 * attn_k, for every motion-augmented attention. The chain gets only the ONNX segment's outputs
 * and the pixel flows; the resized flows and warped maps are its own (never the golden's).
 * Negative controls: the same chain with the position encoding dropped (pe = 0), or with the flows
 * negated (warp in the wrong direction), must miss the golden.
 * Bound: max |gpu - golden| below 1e-5 (warped) / 1e-4 (attention) of the golden's largest magnitude.
 */
import { test, expect } from '../fixtures';

test("flow resize -> splat of frame 0's [k | v] -> motion attention reproduces the tiny pack's per-cut goldens", async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { uploadTensor, readTensor, createTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { SoftmaxSplat } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/splat.ts' as string
    )) as typeof import('../../src/gpu/kernels/splat');
    const { MotionAttention } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/motionAttention.ts' as string
    )) as typeof import('../../src/gpu/kernels/motionAttention');
    const { FlowResize } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/flowResize.ts' as string
    )) as typeof import('../../src/gpu/kernels/flowResize');
    const { readMi2g, compare } = (await import(
      /* @vite-ignore */ '/e2e/reference/mi2g.ts' as string
    )) as typeof import('../reference/mi2g');
    const res = await fetch('/models/tiny/goldens/stage2_unet.bin');
    if (!res.ok) throw new Error(`GET stage2_unet.bin: ${res.status}`);
    const golden = readMi2g(await res.arrayBuffer(), 'stage2_unet.bin');
    const manifest = await (await fetch('/models/tiny/manifest.json')).json();
    const { device } = await acquireGpu();
    device.pushErrorScope('validation');
    const g = (n: string) => {
      const t = golden.tensors.get(n);
      if (!t) throw new Error(`stage2_unet.bin has no ${n}`);
      return t;
    };
    const up = (n: string) => uploadTensor(device, g(n).data as Float32Array, g(n).shape);
    const flow = g('flow');
    const flowT = up('flow');
    const negated = uploadTensor(
      device,
      (flow.data as Float32Array).map((v) => -v),
      flow.shape,
    );
    const resize = new FlowResize(device);
    const splat = new SoftmaxSplat(device);
    const attention = new MotionAttention(device);
    const binsOf = (flows: typeof flowT, h: number, w: number) => {
      const enc = device.createCommandEncoder();
      const resized = resize.encode(enc, { flows, height: h, width: w });
      const bins = splat.prepareBins(enc, resized, { first: 1 });
      device.queue.submit([enc.finish()]);
      return { resized, bins };
    };
    const bySize = new Map<string, ReturnType<typeof binsOf>>();
    const rows: {
      name: string;
      warpedRel: number;
      attnRel: number;
      flowRel: number;
      noPeRel: number;
      negWarpedRel: number;
      negAttnRel: number;
    }[] = [];
    for (const s of manifest.components.stage2_unet.plan) {
      if (s.kind !== 'motion_attention') continue;
      const { height: h, width: w, channels: C, frames: F, heads } = s;
      const key = `${h}x${w}`;
      if (!bySize.has(key)) bySize.set(key, binsOf(flowT, h, w));
      const { resized, bins } = bySize.get(key)!;
      const qkv = up(s.qkv);
      const kv0 = up(s.frame0_kv);
      const pe = up(s.pe);
      const zeroPe = createTensor(device, pe.shape, 'float32', 'zero pe');
      const B = kv0.shape[0];
      const P = h * w;
      const chain = async (b: typeof bins, table: typeof pe) => {
        const warped = createTensor(device, [B, F - 1, h, w, 2 * C], 'float32', 'warped');
        const enc = device.createCommandEncoder();
        splat.encodeGather(enc, b, { input: kv0, mode: 'avg', layout: 'hwc', output: warped });
        const out = attention.encode(enc, {
          qkv: { buffer: qkv.buffer, dtype: 'float32', shape: [B, F, P, 3 * C] },
          warped: { buffer: warped.buffer, dtype: 'float32', shape: [B, F - 1, P, 2 * C] },
          pe: table,
          heads,
        });
        device.queue.submit([enc.finish()]);
        const wr = compare((await readTensor(device, warped)) as Float32Array, g(s.warped).data).rel;
        const ar = compare((await readTensor(device, out)) as Float32Array, g(s.output).data).rel;
        warped.buffer.destroy();
        out.buffer.destroy();
        return { wr, ar };
      };
      const ok = await chain(bins, pe);
      const noPe = await chain(bins, zeroPe);
      if (!bySize.has(`neg ${key}`)) bySize.set(`neg ${key}`, binsOf(negated, h, w));
      const neg = await chain(bySize.get(`neg ${key}`)!.bins, pe);
      rows.push({
        name: s.output,
        flowRel: compare((await readTensor(device, resized)) as Float32Array, g(s.resized_flow).data).rel,
        warpedRel: ok.wr,
        attnRel: ok.ar,
        noPeRel: noPe.ar,
        negWarpedRel: neg.wr,
        negAttnRel: neg.ar,
      });
      for (const t of [qkv, kv0, pe, zeroPe]) t.buffer.destroy();
    }
    const err = await device.popErrorScope();
    for (const { bins } of bySize.values()) bins.dispose();
    splat.dispose();
    attention.dispose();
    device.destroy();
    return { rows, err: err?.message ?? null };
  });
  expect(r.err).toBeNull();
  expect(r.rows.length, 'motion-augmented attentions in the tiny pack').toBe(14);
  for (const row of r.rows) {
    console.log(
      `${row.name}: warped rel ${row.warpedRel.toExponential(2)}, attention rel ${row.attnRel.toExponential(2)} (flow ${row.flowRel.toExponential(2)}); ` +
        `without PE ${row.noPeRel.toExponential(2)}, negated flows warped ${row.negWarpedRel.toExponential(2)} / attention ${row.negAttnRel.toExponential(2)}`,
    );
    expect(row.flowRel, `${row.name}: resized flow`).toBeLessThan(1e-5);
    expect(row.warpedRel, `${row.name}: warped`).toBeLessThan(1e-5);
    expect(row.attnRel, `${row.name}: attention`).toBeLessThan(1e-4);
    expect(row.noPeRel, `${row.name}: dropping the position encoding must not match`).toBeGreaterThan(1e-2);
    expect(row.negWarpedRel, `${row.name}: warping with the wrong flow direction must not match`).toBeGreaterThan(1e-2);
    expect(row.negAttnRel, `${row.name}: attention after the wrong warp must not match`).toBeGreaterThan(1e-3);
  }
});
