/**
 * SoftmaxSplat (src/gpu/kernels/splat.ts) against the plain CPU scatter in
 * e2e/reference/splat.ts, in the page (only summary numbers cross back to node).
 * Tolerance everywhere: |gpu - cpu| <= 1e-5 * max(1, |cpu|), element-wise.
 */
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures';
import type { SplatCaseConfig } from '../reference/splat';

interface CaseResult {
  ok: boolean;
  bad: number;
  worst: number;
  maxAbs: number;
  length: number;
  nonzero: number;
  deterministic: boolean;
}

type KernelOptions = { maxFlowsPerChunk?: number; maxWorkgroupsPerDimension?: number; strategy?: 'gather' | 'atomic' };

async function runCase(page: Page, cfg: SplatCaseConfig & KernelOptions): Promise<CaseResult> {
  return page.evaluate(async (cfg) => {
    const { SoftmaxSplat } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/splat.ts' as string
    )) as typeof import('../../src/gpu/kernels/splat');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/splat.ts' as string)) as typeof import('../reference/splat');
    // One device and kernel per page: pipeline creation on SwiftShader takes seconds.
    const cache = globalThis as unknown as { splatTest?: { device: GPUDevice; kernels: Map<string, InstanceType<typeof SoftmaxSplat>> } };
    if (!cache.splatTest) cache.splatTest = { device: await (await navigator.gpu.requestAdapter())!.requestDevice(), kernels: new Map() };
    const { device, kernels } = cache.splatTest;
    const key = `${cfg.maxFlowsPerChunk}/${cfg.maxWorkgroupsPerDimension}`;
    if (!kernels.has(key))
      kernels.set(
        key,
        new SoftmaxSplat(device, { maxFlowsPerChunk: cfg.maxFlowsPerChunk, maxWorkgroupsPerDimension: cfg.maxWorkgroupsPerDimension }),
      );
    const splat = kernels.get(key)!;
    const data = ref.makeSplatCase(cfg);
    const input = uploadTensor(device, data.input, data.inputShape);
    const flows = uploadTensor(device, data.flows, data.flowShape);
    const metric = data.metric ? uploadTensor(device, data.metric, [...data.metricShape, cfg.H, cfg.W]) : undefined;
    device.pushErrorScope('validation');
    const out = splat.run({ input, flows, metric, mode: cfg.mode, layout: data.layout, strategy: cfg.strategy });
    const again = splat.run({ input, flows, metric, mode: cfg.mode, layout: data.layout, strategy: cfg.strategy });
    const gpu = (await readTensor(device, out)) as Float32Array;
    const gpu2 = (await readTensor(device, again)) as Float32Array;
    const err = await device.popErrorScope();
    if (err) throw new Error(`WebGPU validation error: ${err.message}`);
    const cpu = ref.splatReference({
      input: data.input,
      B: cfg.B,
      C: cfg.C,
      H: cfg.H,
      W: cfg.W,
      layout: data.layout,
      flows: data.flows,
      N: cfg.N,
      metric: data.metric,
      metricShape: data.metricShape,
      mode: cfg.mode,
    });
    const cmp = ref.compareArrays(gpu, cpu);
    let deterministic = true;
    for (let i = 0; i < gpu.length; i++) if (Object.is(gpu[i], gpu2[i]) === false) deterministic = false;
    let nonzero = 0;
    for (const v of cpu) if (v !== 0) nonzero++;
    for (const t of [input, flows, metric, out, again]) t?.buffer.destroy();
    return { ...cmp, nonzero, deterministic };
  }, cfg);
}

type NamedCase = SplatCaseConfig & KernelOptions & { name: string };

const groups: Record<string, NamedCase[]> = {
  'every mode and layout, NaN/Inf/huge/outside/border flows, metric broadcasting': [
    {
      name: 'avg chw, random flows, batch 2 x 3 flows',
      seed: 1,
      B: 2,
      C: 3,
      H: 7,
      W: 9,
      N: 3,
      mode: 'avg',
      flowKind: 'random',
      flowScale: 4,
    },
    {
      name: 'sum hwc, special flows',
      seed: 2,
      B: 1,
      C: 5,
      H: 11,
      W: 13,
      N: 2,
      mode: 'sum',
      layout: 'hwc',
      flowKind: 'special',
      flowScale: 6,
    },
    { name: 'avg hwc, special flows', seed: 3, B: 2, C: 4, H: 10, W: 6, N: 2, mode: 'avg', layout: 'hwc', flowKind: 'special' },
    {
      name: 'linear chw, metric per flow [1, N]',
      seed: 4,
      B: 2,
      C: 2,
      H: 9,
      W: 8,
      N: 3,
      mode: 'linear',
      metricShape: [1, 3],
      flowKind: 'special',
      metricRange: 2,
    },
    {
      name: 'soft hwc, metric per batch [B, 1], clipped beyond +-20',
      seed: 5,
      B: 2,
      C: 3,
      H: 8,
      W: 10,
      N: 2,
      mode: 'soft',
      layout: 'hwc',
      metricShape: [2, 1],
      flowKind: 'random',
      metricRange: 40,
    },
    {
      name: 'soft chw, metric [B, N]',
      seed: 6,
      B: 2,
      C: 1,
      H: 12,
      W: 5,
      N: 2,
      mode: 'soft',
      metricShape: [2, 2],
      flowKind: 'special',
      metricRange: 5,
    },
  ],
  'zero flow, many sources on one target, flow chunks': [
    { name: 'zero flow is the identity (avg)', seed: 7, B: 1, C: 3, H: 6, W: 7, N: 1, mode: 'avg', flowKind: 'zero' },
    {
      name: 'all sources converge on one / four targets (heapsort lists)',
      seed: 8,
      B: 1,
      C: 2,
      H: 17,
      W: 19,
      N: 2,
      mode: 'avg',
      flowKind: 'converge',
    },
    { name: 'converge, sum mode, hwc', seed: 9, B: 1, C: 3, H: 9, W: 11, N: 2, mode: 'sum', layout: 'hwc', flowKind: 'converge' },
    {
      name: 'flows split into chunks of 2',
      seed: 10,
      B: 2,
      C: 3,
      H: 6,
      W: 8,
      N: 5,
      mode: 'avg',
      layout: 'hwc',
      flowKind: 'special',
      maxFlowsPerChunk: 2,
    },
    // Shrinking by 1/2 .. 1/5 puts 1 to ~40 sources on a pixel: sorting network (<= 4),
    // insertion sort (<= 16) and heapsort lists all occur.
    {
      name: 'shrink: every list length (network, insertion, heap), sum',
      seed: 17,
      B: 1,
      C: 2,
      H: 23,
      W: 29,
      N: 4,
      mode: 'sum',
      flowKind: 'shrink',
    },
  ],
  // hwc with C % 4 == 0 and C >= 64 takes the channel-lane gather (softmax_splat_gather_vec4):
  // 4 vec4s per lane and walk, one pass (C = 64, 132) or more (C = 1056: 264 vec4s > 4 x 64 lanes).
  'channel-lane gather (hwc, C % 4 == 0): every mode, batches, passes over channels': [
    { name: 'vec4 avg hwc C64, special flows', seed: 18, B: 2, C: 64, H: 7, W: 9, N: 2, mode: 'avg', layout: 'hwc', flowKind: 'special' },
    { name: 'vec4 sum hwc C132, shrink', seed: 19, B: 1, C: 132, H: 9, W: 8, N: 3, mode: 'sum', layout: 'hwc', flowKind: 'shrink' },
    {
      name: 'vec4 soft hwc C132, metric [B, N] clipped',
      seed: 20,
      B: 2,
      C: 132,
      H: 6,
      W: 7,
      N: 2,
      mode: 'soft',
      layout: 'hwc',
      metricShape: [2, 2],
      metricRange: 30,
      flowKind: 'random',
    },
    {
      name: 'vec4 linear hwc C1056, metric [1, N], 2 passes',
      seed: 21,
      B: 1,
      C: 1056,
      H: 5,
      W: 6,
      N: 2,
      mode: 'linear',
      layout: 'hwc',
      metricShape: [1, 2],
      flowKind: 'special',
      metricRange: 3,
    },
    {
      name: 'vec4 avg hwc C320, 2D grid, chunks of 1',
      seed: 22,
      B: 2,
      C: 320,
      H: 5,
      W: 7,
      N: 3,
      mode: 'avg',
      layout: 'hwc',
      flowKind: 'random',
      maxWorkgroupsPerDimension: 9,
      maxFlowsPerChunk: 1,
    },
  ],
  "strategy 'atomic' (CAS float adds)": [
    {
      name: 'atomic avg chw, special flows',
      seed: 13,
      B: 2,
      C: 3,
      H: 9,
      W: 11,
      N: 2,
      mode: 'avg',
      flowKind: 'special',
      strategy: 'atomic',
    },
    {
      name: 'atomic soft hwc, metric [B, N]',
      seed: 14,
      B: 2,
      C: 4,
      H: 8,
      W: 7,
      N: 3,
      mode: 'soft',
      layout: 'hwc',
      metricShape: [2, 3],
      metricRange: 30,
      flowKind: 'random',
      strategy: 'atomic',
    },
    {
      name: 'atomic linear hwc, chunks of 1',
      seed: 15,
      B: 1,
      C: 2,
      H: 6,
      W: 9,
      N: 3,
      mode: 'linear',
      layout: 'hwc',
      metricShape: [1, 1],
      flowKind: 'special',
      strategy: 'atomic',
      maxFlowsPerChunk: 1,
    },
    {
      name: 'atomic sum, converge (contention)',
      seed: 16,
      B: 1,
      C: 2,
      H: 15,
      W: 13,
      N: 2,
      mode: 'sum',
      flowKind: 'converge',
      strategy: 'atomic',
    },
  ],
  'multi-level scan; workgroup grids split into 2D (as past 65535 per dimension)': [
    {
      name: 'multi-level scan (70200 lists, 4 levels)',
      seed: 11,
      B: 1,
      C: 1,
      H: 260,
      W: 270,
      N: 1,
      mode: 'avg',
      flowKind: 'random',
      flowScale: 20,
    },
    // A cap of 7 workgroups per dimension forces every pass onto a 2D grid with a partial last
    // row, exactly what a real shape past 65535 workgroups gets (the same code path, the cap
    // being min(device limit, option)), at a size SwiftShader runs in a second.
    {
      name: '2D grids, gather chw',
      seed: 12,
      B: 2,
      C: 11,
      H: 13,
      W: 17,
      N: 3,
      mode: 'avg',
      flowKind: 'special',
      maxWorkgroupsPerDimension: 7,
    },
    {
      name: '2D grids, gather hwc soft',
      seed: 13,
      B: 1,
      C: 20,
      H: 9,
      W: 31,
      N: 2,
      mode: 'soft',
      layout: 'hwc',
      metricShape: [1, 2],
      metricRange: 25,
      flowKind: 'random',
      maxWorkgroupsPerDimension: 5,
    },
    {
      name: '2D grids, atomic',
      seed: 14,
      B: 1,
      C: 6,
      H: 12,
      W: 14,
      N: 2,
      mode: 'avg',
      flowKind: 'special',
      strategy: 'atomic',
      maxWorkgroupsPerDimension: 3,
    },
  ],
};

for (const [group, cases] of Object.entries(groups)) {
  test(`splat matches CPU reference: ${group}`, async ({ harness }) => {
    for (const c of cases) {
      const r = await runCase(harness, c);
      console.log(
        `${c.name}: ${r.length} values, ${r.nonzero} non-zero, worst |d|/(1e-5 max(1,|ref|)) = ${r.worst.toFixed(3)}, max abs ${r.maxAbs.toExponential(2)}`,
      );
      expect(r.bad, `${c.name}: elements over tolerance (worst ratio ${r.worst})`).toBe(0);
      expect(r.nonzero, c.name).toBeGreaterThan(0);
      // CAS float adds are order-dependent: only the gather strategy promises bit-equal reruns.
      if (c.strategy !== 'atomic') expect(r.deterministic, `${c.name}: two runs differ`).toBe(true);
      // The gather sums in source order, as the CPU loop: in sum mode (products and adds,
      // correctly rounded in WGSL) the results are the same bits. Other modes divide, which
      // WGSL allows to be 2.5 ulp off, so they are held to the tolerance only.
      if (c.strategy !== 'atomic' && c.mode === 'sum') expect(r.maxAbs, `${c.name}: not bit-equal to the CPU loop`).toBe(0);
    }
  });
}

test('bins prepared once per flow set: every gather through them equals the one-shot splat bit for bit and the CPU reference', async ({
  harness,
}) => {
  const r = await harness.evaluate(async () => {
    const { SoftmaxSplat } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/splat.ts' as string
    )) as typeof import('../../src/gpu/kernels/splat');
    const { uploadTensor, readTensor, createTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/splat.ts' as string)) as typeof import('../reference/splat');
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    device.pushErrorScope('validation');
    // Flow sets with NaN/Inf/huge/border flows; several inputs per set, as stage 2 gathers
    // frame 0's tokens of many attentions through one set; prepared bins in chunks of 2 flows.
    const sets = [
      {
        name: 'hwc C64 avg (channel-lane gather), chunks of 2',
        seed: 31,
        B: 2,
        C: 64,
        H: 5,
        W: 7,
        N: 3,
        mode: 'avg',
        layout: 'hwc',
        maxFlowsPerChunk: 2,
        inputs: 3,
      },
      {
        name: 'chw C3 sum, 2D grid',
        seed: 32,
        B: 1,
        C: 3,
        H: 9,
        W: 11,
        N: 2,
        mode: 'sum',
        layout: 'chw',
        maxWorkgroupsPerDimension: 4,
        inputs: 2,
      },
      {
        name: 'hwc C5 soft, metric [B, N]',
        seed: 33,
        B: 2,
        C: 5,
        H: 6,
        W: 8,
        N: 2,
        mode: 'soft',
        layout: 'hwc',
        metricShape: [2, 2] as [number, number],
        metricRange: 25,
        inputs: 2,
      },
    ] as const satisfies readonly object[];
    const results: { name: string; bitEqual: boolean; bad: number; worst: number; snapshot: boolean }[] = [];
    for (const s of sets) {
      const splat = new SoftmaxSplat(device, {
        maxFlowsPerChunk: 'maxFlowsPerChunk' in s ? s.maxFlowsPerChunk : undefined,
        maxWorkgroupsPerDimension: 'maxWorkgroupsPerDimension' in s ? s.maxWorkgroupsPerDimension : undefined,
      });
      const base = ref.makeSplatCase({ ...s, flowKind: 'special' });
      const flows = uploadTensor(device, base.flows, base.flowShape);
      const metric = base.metric ? uploadTensor(device, base.metric, [...base.metricShape, s.H, s.W]) : undefined;
      const enc = device.createCommandEncoder();
      const bins = splat.prepareBins(enc, flows);
      device.queue.submit([enc.finish()]);
      // The bins are a snapshot of the flows: overwriting the flows afterwards changes nothing.
      device.queue.writeBuffer(flows.buffer, 0, new Float32Array(base.flows.length).fill(0.25));
      const fresh = uploadTensor(device, base.flows, base.flowShape);
      for (let k = 0; k < s.inputs; k++) {
        const data = ref.makeSplatCase({ ...s, seed: s.seed * 10 + k, flowKind: 'special' });
        const input = uploadTensor(device, data.input, data.inputShape);
        const args = { input, metric, mode: s.mode, layout: s.layout };
        const e = device.createCommandEncoder();
        const reused = splat.encodeGather(e, bins, args);
        device.queue.submit([e.finish()]);
        const oneShot = splat.run({ ...args, flows: fresh });
        const a = (await readTensor(device, reused)) as Float32Array;
        const b = (await readTensor(device, oneShot)) as Float32Array;
        let bitEqual = a.length === b.length;
        for (let i = 0; bitEqual && i < a.length; i++) bitEqual = Object.is(a[i], b[i]);
        const cpu = ref.splatReference({
          input: data.input,
          B: s.B,
          C: s.C,
          H: s.H,
          W: s.W,
          layout: s.layout,
          flows: base.flows,
          N: s.N,
          metric: base.metric,
          metricShape: base.metricShape,
          mode: s.mode,
        });
        const cmp = ref.compareArrays(a, cpu);
        let nonzero = 0;
        for (const v of cpu) if (v !== 0) nonzero++;
        results.push({ name: `${s.name}, input ${k}`, bitEqual, bad: cmp.bad, worst: cmp.worst, snapshot: nonzero > 0 });
      }
      // Misuse is refused before anything is recorded.
      const errors: string[] = [];
      const expectError = (fn: () => void) => {
        try {
          fn();
          errors.push('none');
        } catch (e) {
          errors.push((e as { argument: string }).argument);
        }
      };
      const wrongShape = createTensor(device, s.layout === 'hwc' ? [s.B, s.H + 1, s.W, s.C] : [s.B, s.C, s.H + 1, s.W]);
      expectError(() =>
        splat.encodeGather(device.createCommandEncoder(), bins, { input: wrongShape, metric, mode: s.mode, layout: s.layout }),
      );
      bins.dispose();
      expectError(() =>
        splat.encodeGather(device.createCommandEncoder(), bins, { input: wrongShape, metric, mode: s.mode, layout: s.layout }),
      );
      results.push({
        name: `${s.name}: errors ${errors.join(',')}`,
        bitEqual: errors.join(',') === 'input,bins',
        bad: 0,
        worst: 0,
        snapshot: true,
      });
      splat.dispose();
    }
    const err = await device.popErrorScope();
    device.destroy();
    return { results, err: err?.message ?? null };
  });
  expect(r.err).toBeNull();
  for (const v of r.results) {
    console.log(`${v.name}: bit-equal to one-shot ${v.bitEqual}, worst ratio vs CPU ${v.worst.toFixed(3)}`);
    expect(v.bitEqual, v.name).toBe(true);
    expect(v.bad, v.name).toBe(0);
    expect(v.snapshot, `${v.name}: the reference has non-zero values`).toBe(true);
  }
});
