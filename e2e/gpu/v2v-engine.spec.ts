/**
 * The tracked motion engine through the real engine worker (EngineClient): the source frames
 * travel with the job (once per key), the clip's frame 0 is the restyled image byte for byte,
 * every flow comes back as a colour-wheel picture, and the job fails, cancels and survives a
 * lost device like any other; the live preview follows the same tracked motion. A job without source frames, or with the wrong number of them,
 * is refused in words that name no internals.
 */
import { test, expect } from '../fixtures';

test('tracked motion job: source frames in, N + 1 frames and N motion pictures out; refusals, cancel and device loss', async ({
  harness,
}) => {
  const r = await harness.evaluate(async () => {
    const { EngineClient } = (await import(
      /* @vite-ignore */ '/src/pipeline/client.ts' as string
    )) as typeof import('../../src/pipeline/client');
    const { emptyProject } = (await import(/* @vite-ignore */ '/src/motion/types.ts' as string)) as typeof import('../../src/motion/types');
    const { GENERIC_FAILURE } = (await import(/* @vite-ignore */ '/src/errors.ts' as string)) as typeof import('../../src/errors');
    const W = 64;
    const H = 48;
    const picture = (seed: number) => {
      const d = new ImageData(W, H);
      for (let i = 0; i < W * H; i++) {
        d.data[i * 4] = (i * 7 + seed * 40) & 255;
        d.data[i * 4 + 1] = ((i % W) * 4 + seed) & 255;
        d.data[i * 4 + 2] = (Math.floor(i / W) * 5) & 255;
        d.data[i * 4 + 3] = 255;
      }
      return d;
    };
    const pixels = (b: ImageBitmap) => {
      const g = new OffscreenCanvas(b.width, b.height).getContext('2d')!;
      g.drawImage(b, 0, 0);
      return g.getImageData(0, 0, b.width, b.height).data;
    };
    const project = emptyProject();
    project.canvas = { width: W, height: H };
    project.settings.frames = 4;
    project.video = {
      id: 'sha256-test',
      name: 'clip.mp4',
      width: W,
      height: H,
      duration: 1,
      frameCount: 8,
      fps: 8,
      startTime: 0,
      stride: 1,
    };
    const image = picture(99);
    const source = { key: 'clip|0|1|4|64x48', frames: [0, 1, 2, 3].map(picture) };
    const engines = { motion: 'tracked', render: 'classical' } as const;
    const client = new EngineClient();
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
      );

    const stages: string[] = [];
    const video = await client.generate(project, image, {
      engines,
      source,
      includeFlowColours: true,
      onProgress: (p) => stages.at(-1) !== p.stage && stages.push(p.stage),
    });
    const frame0 = pixels(video.frames[0]);
    let frame0Diff = 0;
    for (let i = 0; i < frame0.length; i++) if (frame0[i] !== image.data[i]) frame0Diff++;
    const result = {
      frames: video.frames.length,
      size: `${video.width}x${video.height}`,
      colours: video.flowColours?.map((b) => `${b.width}x${b.height}`),
      frame0Diff,
      stages,
      engines: video.engines,
    };
    // The live preview of frame 2 (a frame subset of the same tracked flows) shows what Generate made.
    const preview = await client.previewDetail(project, image, { engines, source, frame: 2, withFlow: true });
    const shown = pixels(preview.frame);
    const made = pixels(video.frames[2]);
    let previewDiff = 0;
    for (let i = 0; i < shown.length; i++) if (shown[i] !== made[i]) previewDiff++;
    const strip = await client.previewDetail(project, image, { engines, source, frame: 0, stripWidth: 16 });
    const previewed = { previewDiff, flow: preview.flow?.length, colour: !!preview.flowColour, strip: strip.strip.length };
    const noSource = await outcome(client.generate(project, image, { engines }));
    const wrongCount = await outcome(
      client.generate(project, image, { engines, source: { key: 'short', frames: source.frames.slice(0, 3) } }),
    );
    const ac = new AbortController();
    const cancelled = outcome(client.generate(project, image, { engines, source, signal: ac.signal }));
    ac.abort();
    // A lost device: the next job runs on a new one, with the source frames sent again.
    const lost = new Promise<void>((resolve) => client.onDevice((e) => e.type === 'lost' && resolve()));
    client.simulateDeviceLoss();
    await lost;
    const again = await client.generate(project, image, { engines, source, includeFlowColours: true });
    const afterLoss = `${again.frames.length} frames, ${again.flowColours?.length} motion pictures`;
    client.dispose();
    return { result, previewed, noSource, wrongCount, cancelled: await cancelled, afterLoss, generic: GENERIC_FAILURE };
  });
  expect(r.result).toEqual({
    frames: 4,
    size: '64x48',
    colours: ['64x48', '64x48', '64x48'],
    frame0Diff: 0,
    stages: expect.any(Array),
    engines: { motion: 'tracked', render: 'classical' },
  });
  // Tracking is the motion stage; rendering follows it.
  expect(r.result.stages.indexOf('motion')).toBeGreaterThanOrEqual(0);
  expect(r.result.stages.indexOf('render')).toBeGreaterThan(r.result.stages.indexOf('motion'));
  expect(r.previewed).toEqual({ previewDiff: 0, flow: 2 * 64 * 48, colour: true, strip: 4 });
  expect(r.noSource).toMatch(/^engine-unavailable: Tracked motion needs a source video/);
  expect(r.wrongCount).toBe(`internal: ${r.generic}`);
  expect(r.cancelled).toBe('aborted: Cancelled.');
  expect(r.afterLoss).toBe('4 frames, 3 motion pictures');
});
