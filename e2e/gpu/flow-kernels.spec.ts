/**
 * FlowResize and FlowColour (src/gpu/kernels/) against PyTorch goldens and the CPU references
 * in e2e/reference/flow.ts. Resize tolerance: |gpu - ref| <= 1e-5 * max(1, |ref|); colour: every
 * RGB byte within 1 of the reference (floor(255 * c) flips where GPU atan2/sqrt round differently).
 */
import { test, expect } from '../fixtures';

/**
 * torch 1.13: F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False), then
 * dx * w / W, dy * h / H; x[i] = sin(0.7 i) * 3 + 0.1 i over the flattened [N, 2, H, W].
 * Key: "N,H,W,h,w". Generated once with Debian's python3-torch; printed to 8 significant digits.
 */
const TORCH_GOLDEN: Record<string, number[]> = {
  '1,3,4,5,7': [
    0.0, 1.2704084, 3.3030615, 4.5403771, 5.4902706, 5.2235498, 5.0568495, 0.98347521, 1.2563915, 1.6930575, 1.8257489, 1.8722214,
    1.6191367, 1.4609587, 2.4586875, 1.2353661, -0.72194773, -2.2461922, -3.5548515, -3.787482, -3.9328754, -0.16501516, 0.11224712,
    0.55586678, 1.1602595, 1.7795839, 2.3426588, 2.6945801, -1.9141499, -0.63649869, 1.407743, 3.431227, 5.3358731, 6.4294176, 7.1128831,
    6.272995, 5.376267, 3.9415038, 2.1315477, 0.32955053, -1.0415448, -1.8984789, 2.8721075, 2.6157668, 2.2056222, 1.8610812, 1.560588,
    1.5028225, 1.4667193, -2.2292216, -1.5249821, -0.39819953, 1.4553822, 3.4071443, 5.3193727, 6.5145154, 4.0801339, 4.2423368, 4.5018601,
    4.4554505, 4.3325291, 3.9799519, 3.7595913, 8.2863703, 8.0872145, 7.7685661, 6.4554958, 4.9494519, 3.0870049, 1.9229761,
  ],
  '1,7,9,3,4': [
    0.84399104, 1.5593686, -0.073175445, -0.53370357, 1.821292, 2.469337, 0.81476492, 0.4222669, 2.7976425, 3.3774767, 1.7036872, 1.3800082,
    3.6382806, 4.1309366, 2.5009732, 2.25583, 4.5778499, 5.0034356, 3.3601232, 3.182472, 5.5163064, 5.8742957, 4.2204213, 4.1107011,
  ],
  '2,6,5,4,10': [
    -0.27617484, 0.30327287, 1.4621685, 2.4339232, 3.2185376, 3.6550193, 3.7433677, 3.4863236, 2.8838863, 2.5826676, 4.1802649, 4.407547,
    4.8621111, 4.9475489, 4.6638603, 4.1012731, 3.2597861, 2.3607981, 1.4043093, 0.92606479, 0.77728015, 0.66104031, 0.4285602, 0.5650053,
    1.0703754, 1.8493445, 2.9019125, 4.004076, 5.1558342, 5.7317133, 1.8455942, 2.2584138, 3.084053, 4.0805492, 5.2479029, 6.3351169,
    7.3421922, 8.0558214, 8.4760065, 8.6860981, 3.0426381, 2.9355242, 2.7212965, 2.452491, 2.1291075, 1.8350302, 1.5702599, 1.4048976,
    1.3389434, 1.3059663, 2.6940134, 2.5365632, 2.2216628, 1.9756387, 1.7984909, 1.7397156, 1.7993129, 1.9711065, 2.2550964, 2.3970914,
    2.9952037, 3.185008, 3.5646164, 3.8731577, 4.1106324, 4.2290339, 4.2283635, 4.1166167, 3.8937931, 3.782382, 4.4462042, 4.5075288,
    4.630178, 4.6303692, 4.5081005, 4.2999649, 4.0059609, 3.7030652, 3.3912773, 3.2353833, 9.623539, 9.5508804, 9.4055634, 9.62675,
    10.214442, 11.053954, 12.145287, 13.25532, 14.384051, 14.94842, 10.955999, 11.40093, 12.290792, 13.323428, 14.498837, 15.56413, 16.5193,
    17.163258, 17.495996, 17.662365, 18.012346, 17.659592, 16.954081, 16.113197, 15.136945, 14.278409, 13.537592, 13.112215, 13.002283,
    12.947317, 16.818689, 16.359106, 15.439941, 14.752363, 14.296373, 14.202719, 14.471399, 15.062742, 15.976756, 16.433762, 6.0830884,
    6.2683244, 6.6387978, 6.9300179, 7.1419854, 7.2326946, 7.2021441, 7.0653567, 6.8223329, 6.7008204, 7.4928913, 7.5394645, 7.6326103,
    7.6047463, 7.4558735, 7.2288361, 6.923636, 6.6198821, 6.317574, 6.1664205, 6.1627841, 6.1533809, 6.134573, 6.2362647, 6.4584537,
    6.7567306, 7.1310954, 7.5013504, 7.8674979, 8.0505714, 6.6953807, 6.8534646, 7.1696339, 7.5236955, 7.9156508, 8.2611675, 8.5602446,
    8.750391, 8.8316059, 8.8722134,
  ],
};

test('flow resize matches PyTorch goldens and the CPU reference', async ({ harness }) => {
  const r = await harness.evaluate(async (golden) => {
    const { FlowResize } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/flowResize.ts' as string
    )) as typeof import('../../src/gpu/kernels/flowResize');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/flow.ts' as string)) as typeof import('../reference/flow');
    const { compareArrays, rng } = (await import(
      /* @vite-ignore */ '/e2e/reference/splat.ts' as string
    )) as typeof import('../reference/splat');
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const resize = new FlowResize(device);
    const results: Record<string, { gpu: { bad: number; worst: number }; cpu?: { bad: number; worst: number } }> = {};
    device.pushErrorScope('validation');
    for (const [key, expected] of Object.entries(golden)) {
      const [N, H, W, h, w] = key.split(',').map(Number);
      const x = new Float32Array(N * 2 * H * W).map((_, i) => Math.sin(0.7 * i) * 3 + 0.1 * i);
      const out = resize.run({ flows: uploadTensor(device, x, [N, 2, H, W]), height: h, width: w });
      const gpu = await readTensor(device, out);
      // goldens carry 8 significant digits, so compare at 1e-5 relative as everywhere
      results['torch ' + key] = {
        gpu: compareArrays(gpu, expected),
        cpu: compareArrays(ref.resizeFlowsReference(x, N, H, W, h, w), expected),
      };
    }
    const r = rng(21);
    const shapes: [number, number, number, number, number][] = [
      [2, 320, 512, 40, 64],
      [2, 320, 512, 20, 32],
      [2, 320, 512, 10, 16],
      [2, 320, 512, 5, 8],
      [1, 5, 7, 33, 40],
      [3, 17, 23, 9, 10],
      [1, 12, 12, 12, 12],
      [1, 6, 9, 1, 1],
      [1, 1, 1, 4, 3],
    ];
    // A cap of 3 workgroups per dimension forces the 2D grid that shapes past 65535 workgroups get.
    const resize2D = new FlowResize(device, { maxWorkgroupsPerDimension: 3 });
    shapes.push([2, 30, 41, 17, 23]);
    for (const [N, H, W, h, w] of shapes) {
      const x = new Float32Array(N * 2 * H * W).map(() => (r() * 2 - 1) * 40);
      const input = uploadTensor(device, x, [N, 2, H, W]);
      const output = uploadTensor(device, new Float32Array(N * 2 * h * w).fill(NaN), [N, 2, h, w]);
      (H === 30 ? resize2D : resize).run({ flows: input, height: h, width: w, output });
      const gpu = await readTensor(device, output);
      results[`random ${[N, H, W]} -> ${h}x${w}`] = { gpu: compareArrays(gpu, ref.resizeFlowsReference(x, N, H, W, h, w)) };
    }
    const err = await device.popErrorScope();
    device.destroy();
    return { results, err: err?.message ?? null };
  }, TORCH_GOLDEN);
  expect(r.err).toBeNull();
  for (const [name, v] of Object.entries(r.results)) {
    console.log(
      `${name}: gpu worst ratio ${v.gpu.worst.toFixed(3)}${v.cpu ? `, cpu reference worst ratio ${v.cpu.worst.toFixed(3)}` : ''}`,
    );
    expect(v.gpu.bad, name).toBe(0);
    if (v.cpu) expect(v.cpu.bad, `CPU reference vs torch, ${name}`).toBe(0);
  }
});

test('flow colour matches the flow_vis reference (auto and given max, stacks, NaN)', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { FlowColour } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/flowColour.ts' as string
    )) as typeof import('../../src/gpu/kernels/flowColour');
    const { uploadTensor } = (await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/flow.ts' as string)) as typeof import('../reference/flow');
    const { rng } = (await import(/* @vite-ignore */ '/e2e/reference/splat.ts' as string)) as typeof import('../reference/splat');
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const colour = new FlowColour(device);
    async function readRgba(tex: GPUTexture): Promise<Uint8Array> {
      const bpr = Math.ceil((tex.width * 4) / 256) * 256;
      const buf = device.createBuffer({ size: bpr * tex.height, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      const enc = device.createCommandEncoder();
      enc.copyTextureToBuffer({ texture: tex }, { buffer: buf, bytesPerRow: bpr }, [tex.width, tex.height]);
      device.queue.submit([enc.finish()]);
      await buf.mapAsync(GPUMapMode.READ);
      const rows = new Uint8Array(buf.getMappedRange());
      const out = new Uint8Array(tex.width * tex.height * 4);
      for (let y = 0; y < tex.height; y++) out.set(rows.subarray(y * bpr, y * bpr + tex.width * 4), y * tex.width * 4);
      buf.unmap();
      buf.destroy();
      return out;
    }
    const r = rng(31);
    const cases: { name: string; N: number; H: number; W: number; frame?: number; maxRadius?: number; nan?: boolean; scale: number }[] = [
      { name: 'auto max, 23 x 37', N: 1, H: 23, W: 37, scale: 10 },
      { name: 'auto max, NaN/Inf pixels excluded', N: 1, H: 16, W: 20, scale: 3, nan: true },
      { name: 'given max below the flow (darkened ring)', N: 1, H: 19, W: 21, scale: 8, maxRadius: 4 },
      { name: 'frame 2 of a stack of 3', N: 3, H: 12, W: 40, frame: 2, scale: 100 },
      { name: 'all-zero flow (white)', N: 1, H: 5, W: 6, scale: 0 },
      { name: 'auto max on a 2D workgroup grid (cap 2 per dimension)', N: 2, H: 23, W: 37, frame: 1, scale: 6, nan: true },
    ];
    const colour2D = new FlowColour(device, { maxWorkgroupsPerDimension: 2 });
    const results: { name: string; maxDiff: number; differing: number; pixels: number; sample: number[] }[] = [];
    device.pushErrorScope('validation');
    for (const c of cases) {
      const HW = c.H * c.W;
      const flows = new Float32Array(c.N * 2 * HW).map(() => (r() * 2 - 1) * c.scale);
      if (c.nan) for (let i = 0; i < 20; i++) flows[Math.floor(r() * flows.length)] = [NaN, Infinity, -Infinity][i % 3];
      const shape = c.N === 1 && c.frame === undefined ? [2, c.H, c.W] : [c.N, 2, c.H, c.W];
      const kernel = c.name.includes('2D') ? colour2D : colour;
      const tex = kernel.run({ flows: uploadTensor(device, flows, shape), frame: c.frame, maxRadius: c.maxRadius });
      const gpu = await readRgba(tex);
      const cpu = ref.flowColourReference(flows, c.H, c.W, c.frame ?? 0, c.maxRadius);
      let maxDiff = 0;
      let differing = 0;
      for (let i = 0; i < gpu.length; i++) {
        const d = Math.abs(gpu[i] - cpu[i]);
        if (d) differing++;
        maxDiff = Math.max(maxDiff, d);
      }
      results.push({ name: c.name, maxDiff, differing, pixels: HW, sample: [...cpu.subarray(0, 4)] });
      tex.destroy();
    }
    const err = await device.popErrorScope();
    colour.dispose();
    colour.dispose();
    device.destroy();
    return { results, err: err?.message ?? null };
  });
  expect(r.err).toBeNull();
  for (const c of r.results) {
    console.log(`${c.name}: max byte diff ${c.maxDiff}, ${c.differing} of ${c.pixels * 4} bytes differ`);
    expect(c.maxDiff, c.name).toBeLessThanOrEqual(1);
  }
  expect(r.results[4].sample).toEqual([255, 255, 255, 255]);
});
