/**
 * The engine seam: jobs name a motion engine and a render engine; any motion engine pairs with
 * any render engine; the preview's single frame is a frame subset of the same interface; kinds
 * with no implementation are refused in words; a scene where nothing moves says what to draw.
 */
import { test, expect } from '../fixtures';
import type { EngineChoice } from '../../src/pipeline/engine';
import type { Project } from '../../src/motion/types';

const SETUP = `
  window.__setup = async () => {
    const motion = await import('/src/motion/index.ts');
    const bmp = await createImageBitmap(await (await fetch('/__media/softsplat/one.png')).blob());
    const W = 96, H = 64;
    const ctx = new OffscreenCanvas(W, H).getContext('2d');
    ctx.drawImage(bmp, -110, -110);
    const imageData = ctx.getImageData(0, 0, W, H);
    const project = motion.emptyProject();
    project.canvas = { width: W, height: H };
    project.settings.frames = 4;
    project.settings.flowUnit = 64;
    project.trajectories = [{ id: 't', color: '#f00', points: [{ x: 40, y: 30 }, { x: 52, y: 24 }], timing: motion.defaultTiming(4) }];
    return { imageData, project, motion };
  };
`;

test('a stand-in motion engine pairs with the classical render; a frame subset equals the same frames of the whole clip', async ({
  harness,
}) => {
  await harness.addScriptTag({ content: SETUP });
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { ClassicalEngine, uploadImage } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { runStages } = (await import(
      /* @vite-ignore */ '/src/pipeline/engine.ts' as string
    )) as typeof import('../../src/pipeline/engine');
    const { readTensor, uploadTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { imageData, project } = await (window as unknown as { __setup: () => Promise<any> }).__setup();
    const { device } = await acquireGpu();
    const W = 96,
      H = 64,
      N = 3;
    const image = uploadImage(device, imageData);
    // Stand-in stage 1 (as a neural or tracked engine would be): flow i moves everything by (i, 0) px.
    const shift = {
      kind: 'tracked' as const,
      async motion() {
        const data = new Float32Array(N * 2 * H * W);
        for (let i = 0; i < N; i++) data.fill(i + 1, i * 2 * H * W, i * 2 * H * W + H * W);
        return { tensor: uploadTensor(device, data, [N, 2, H, W]), width: W, height: H, count: N };
      },
      dispose() {},
    };
    const classical = new ClassicalEngine(device);
    const { frames } = await runStages(shift, classical, { project, image });
    const words = (await readTensor(device, frames.tensor)) as Uint32Array;
    const ref = new Uint32Array(imageData.data.buffer);
    // Frame k, pixel (x, y) came from (x - k, y): compare away from the left border hole.
    let shiftMismatch = 0;
    for (let k = 1; k <= N; k++)
      for (let y = 0; y < H; y++)
        for (let x = 4; x < W; x++) {
          if (words[k * W * H + y * W + x] !== ref[y * W + x - k]) shiftMismatch++;
        }
    // The preview's path: classical motion + render of frame 2 only, vs. the whole clip.
    const whole = await runStages(classical, classical, { project, image });
    const one = await runStages(classical, classical, { project, image }, { frames: [2] });
    const wholeFrames = (await readTensor(device, whole.frames.tensor)) as Uint32Array;
    const oneFrame = (await readTensor(device, one.frames.tensor)) as Uint32Array;
    const wholeFlows = (await readTensor(device, whole.flows.tensor)) as Float32Array;
    const oneFlow = (await readTensor(device, one.flows.tensor)) as Float32Array;
    let frameDiff = 0;
    for (let i = 0; i < W * H; i++) if (oneFrame[i] !== wholeFrames[2 * W * H + i]) frameDiff++;
    let flowDiff = 0;
    for (let i = 0; i < 2 * W * H; i++) flowDiff = Math.max(flowDiff, Math.abs(oneFlow[i] - wholeFlows[2 * W * H + i]));
    let moved = 0;
    for (let i = 0; i < W * H; i++) if (oneFrame[i] !== ref[i]) moved++;
    const out = {
      count: frames.count,
      shiftMismatch,
      oneCount: one.frames.count,
      oneFrames: one.frames.frames,
      frameDiff,
      flowDiff,
      moved,
    };
    classical.dispose();
    device.destroy();
    return out;
  });
  expect(r.count).toBe(4);
  expect(r.shiftMismatch).toBe(0);
  expect(r.oneCount).toBe(1);
  expect(r.oneFrames).toEqual([2]);
  expect(r.flowDiff).toBeLessThan(1e-4);
  expect(r.frameDiff).toBe(0);
  expect(r.moved).toBeGreaterThan(20);
});

test('the worker refuses engines it does not have, and scenes where nothing moves, in words', async ({ harness }) => {
  await harness.addScriptTag({ content: SETUP });
  const r = await harness.evaluate(async () => {
    const { EngineClient } = (await import(
      /* @vite-ignore */ '/src/pipeline/client.ts' as string
    )) as typeof import('../../src/pipeline/client');
    const { imageData, project } = await (window as unknown as { __setup: () => Promise<any> }).__setup();
    const client = new EngineClient();
    const attempt = async (p: Project, engines?: EngineChoice) => {
      try {
        await client.generate(p, imageData, { engines });
        return { code: 'ok', message: '' };
      } catch (e) {
        return { code: (e as { code: string }).code, message: (e as Error).message };
      }
    };
    const neural = await attempt(project, { motion: 'neural', render: 'neural', motionConfig: { pack: 'tiny' } });
    const neuralRender = await attempt(project, { motion: 'classical', render: 'neural' });
    const tracked = await attempt(project, { motion: 'tracked', render: 'classical' });
    const empty = await attempt({ ...project, trajectories: [] });
    const anchors = await attempt({ ...project, trajectories: [{ ...project.trajectories[0], points: [{ x: 10, y: 10 }] }] });
    const brush = await attempt({ ...project, trajectories: [], brush: [{ mode: 'paint', radius: 10, points: [{ x: 30, y: 30 }] }] });
    const ok = await attempt(project);
    client.dispose();
    return { neural, neuralRender, tracked, empty, anchors, brush, ok };
  });
  // The neural engines exist; a pack that is not installed is refused in words.
  expect(r.neural).toEqual({ code: 'model-pack', message: expect.stringMatching(/not installed\. Install it in Model packs/) });
  expect(r.neuralRender.code).toBe('engine-unavailable');
  expect(r.tracked).toEqual({ code: 'engine-unavailable', message: expect.stringMatching(/video/) });
  for (const k of ['empty', 'anchors', 'brush'] as const) {
    expect(r[k].code, k).toBe('nothing-to-animate');
    expect(r[k].message, k).toMatch(/Draw a trajectory \(T\) to make something move/);
    expect(r[k].message, k).not.toMatch(/densify|table|shape|\[/);
  }
  expect(r.ok.code).toBe('ok');
});
