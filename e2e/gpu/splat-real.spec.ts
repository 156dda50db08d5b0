/**
 * Real data (sniklaus/softmax-splatting's own example, ../shared/media/softsplat): warp one.png
 * by flow.flo (one -> two) with average splatting and compare with two.png where the warp
 * covers (sum of bilinear weights > 0.5). The GPU numbers must equal those of the plain CPU
 * splat in e2e/reference/splat.ts: PSNR to 0.01 dB and covered fraction to 0.1 %.
 */
import { test, expect } from '../fixtures';

test('splat one.png by flow.flo (avg) reproduces two.png as the CPU reference does', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { SoftmaxSplat } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/splat.ts' as string
    )) as typeof import('../../src/gpu/kernels/splat');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { readFlo } = (await import(/* @vite-ignore */ '/src/motion/flo.ts' as string)) as typeof import('../../src/motion/flo');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/splat.ts' as string)) as typeof import('../reference/splat');

    async function decodeChw(url: string): Promise<{ data: Float32Array; H: number; W: number }> {
      const bitmap = await createImageBitmap(await (await fetch(url)).blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const HW = bitmap.width * bitmap.height;
      const data = new Float32Array(3 * HW);
      for (let i = 0; i < HW; i++) for (let c = 0; c < 3; c++) data[c * HW + i] = rgba[i * 4 + c] / 255;
      return { data, H: bitmap.height, W: bitmap.width };
    }
    const one = await decodeChw('/__media/softsplat/one.png');
    const two = await decodeChw('/__media/softsplat/two.png');
    const flo = readFlo(await (await fetch('/__media/softsplat/flow.flo')).arrayBuffer());
    const { H, W } = one;
    if (flo.width !== W || flo.height !== H) throw new Error(`flow is ${flo.width}x${flo.height}, image ${W}x${H}`);
    const HW = H * W;
    const flows = new Float32Array(2 * HW);
    for (let i = 0; i < HW; i++) {
      flows[i] = flo.data[2 * i];
      flows[HW + i] = flo.data[2 * i + 1];
    }

    /** PSNR (peak 1) over RGB of pixels with coverage > 0.5, and the covered fraction. */
    function score(warped: ArrayLike<number>, coverage: ArrayLike<number>, reference: Float32Array) {
      let se = 0;
      let covered = 0;
      for (let i = 0; i < HW; i++) {
        if (!(coverage[i] > 0.5)) continue;
        covered++;
        for (let c = 0; c < 3; c++) se += (warped[c * HW + i] - reference[c * HW + i]) ** 2;
      }
      return { psnr: 10 * Math.log10(1 / (se / (3 * covered))), fraction: covered / HW };
    }

    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const splat = new SoftmaxSplat(device);
    const flowT = uploadTensor(device, flows, [1, 2, H, W]);
    const warpedT = splat.run({ input: uploadTensor(device, one.data, [1, 3, H, W]), flows: flowT, mode: 'avg' });
    const coverageT = splat.run({ input: uploadTensor(device, new Float32Array(HW).fill(1), [1, 1, H, W]), flows: flowT, mode: 'sum' });
    const gpu = score((await readTensor(device, warpedT)) as Float32Array, (await readTensor(device, coverageT)) as Float32Array, two.data);
    splat.dispose();
    device.destroy();

    const cpuWarped = ref.splatReference({ input: one.data, B: 1, C: 3, H, W, flows, N: 1, mode: 'avg' });
    const cpuCoverage = ref.splatCoverage(flows, 1, H, W);
    const cpu = score(cpuWarped, cpuCoverage, two.data);
    // Not warping at all, over the same pixels: the warp must beat it (flow direction / semantics).
    const identity = score(one.data, cpuCoverage, two.data);
    return { gpu, cpu, identity, H, W };
  });
  console.log(
    `softsplat one->two ${r.W}x${r.H}: GPU PSNR ${r.gpu.psnr.toFixed(3)} dB over ${(100 * r.gpu.fraction).toFixed(2)} % covered; ` +
      `CPU reference ${r.cpu.psnr.toFixed(3)} dB over ${(100 * r.cpu.fraction).toFixed(2)} %; unwarped one.png ${r.identity.psnr.toFixed(3)} dB`,
  );
  expect(Math.abs(r.gpu.psnr - r.cpu.psnr)).toBeLessThan(0.01);
  expect(Math.abs(r.gpu.fraction - r.cpu.fraction)).toBeLessThan(0.001);
  expect(r.gpu.fraction).toBeGreaterThan(0.5);
  expect(r.gpu.psnr).toBeGreaterThan(r.identity.psnr + 1);
});
