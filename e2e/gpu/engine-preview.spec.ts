/**
 * LivePreview mounted on its own (React, the real project store and image store, the engine
 * worker): it shows a warped frame, follows edits of the project, and draws the motion field.
 */
import { test, expect } from '../fixtures';

test('LivePreview shows the warped frame and follows a moved trajectory', async ({ harness }) => {
  test.setTimeout(420_000);
  await harness.evaluate(async () => {
    const { mountLivePreview } = (await import(
      /* @vite-ignore */ '/src/ui/preview/index.ts' as string
    )) as typeof import('../../src/ui/preview/index');
    const { useProjectStore } = (await import(
      /* @vite-ignore */ '/src/state/project.ts' as string
    )) as typeof import('../../src/state/project');
    const { importImage } = (await import(/* @vite-ignore */ '/src/state/image.ts' as string)) as typeof import('../../src/state/image');
    const motion = (await import(/* @vite-ignore */ '/src/motion/index.ts' as string)) as typeof import('../../src/motion/index');
    const blob = await (await fetch('/__media/softsplat/one.png')).blob();
    const ref = await importImage(blob, 'one.png');
    useProjectStore.getState().edit((p: any) => ({
      ...p,
      image: ref,
      canvas: { width: 320, height: 320 },
      crop: { x: 0, y: 0, width: 320, height: 320 },
      settings: { ...p.settings, frames: 3 },
      trajectories: [
        {
          id: 't',
          color: '#f00',
          points: [
            { x: 160, y: 150 },
            { x: 176, y: 150 },
          ],
          timing: motion.defaultTiming(3),
        },
      ],
      brush: [{ mode: 'paint', radius: 40, points: [{ x: 160, y: 150 }] }],
    }));
    const host = document.createElement('div');
    document.body.append(host);
    mountLivePreview(host);
  });
  const frame = harness.getByTestId('preview-frame');
  await expect(harness.getByTestId('preview-ms')).toBeVisible({ timeout: 120_000 });
  // The preview of the last frame differs from the image around the drag, not far away.
  const sample = () =>
    harness.evaluate(() => {
      const c = document.querySelector('[data-testid=preview-frame]') as HTMLCanvasElement;
      const ctx = c.getContext('2d')!;
      const near = Array.from(ctx.getImageData(150, 140, 40, 20).data);
      const far = Array.from(ctx.getImageData(10, 10, 20, 20).data);
      return { w: c.width, h: c.height, near, far };
    });
  const original = await harness.evaluate(async () => {
    const bmp = await createImageBitmap(await (await fetch('/__media/softsplat/one.png')).blob());
    const ctx = new OffscreenCanvas(320, 320).getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    return { near: Array.from(ctx.getImageData(150, 140, 40, 20).data), far: Array.from(ctx.getImageData(10, 10, 20, 20).data) };
  });
  const first = await sample();
  expect([first.w, first.h]).toEqual([320, 320]);
  expect(first.far).toEqual(original.far);
  expect(first.near).not.toEqual(original.near);
  await expect(frame).toBeVisible();

  // Move the trajectory's end: the preview updates by itself.
  await harness.evaluate(async () => {
    const { useProjectStore } = (await import(
      /* @vite-ignore */ '/src/state/project.ts' as string
    )) as typeof import('../../src/state/project');
    useProjectStore.getState().edit((p: any) => ({
      ...p,
      trajectories: [
        {
          ...p.trajectories[0],
          points: [
            { x: 160, y: 150 },
            { x: 160, y: 170 },
          ],
        },
      ],
    }));
  });
  await expect.poll(async () => JSON.stringify((await sample()).near) !== JSON.stringify(first.near), { timeout: 120_000 }).toBe(true);

  // The motion field view and the frame strip appear.
  await harness.getByLabel('Motion field').check();
  await expect(harness.getByTestId('preview-flow')).toBeVisible();
  await expect(harness.getByRole('listitem')).toHaveCount(3, { timeout: 120_000 });

  // The worker's device lost while a preview update runs: the preview says so in words, and the
  // next edit is previewed on the new device. (Wait until no update runs or waits, so the one
  // that fails is the last one.)
  await expect
    .poll(
      () =>
        harness.evaluate(async () => {
          const { isRunning } = (await import(/* @vite-ignore */ '/src/state/job.ts' as string)) as typeof import('../../src/state/job');
          return isRunning('preview') || isRunning('preview-strip');
        }),
      { timeout: 120_000 },
    )
    .toBe(false);
  const failure = await harness.evaluate(async () => {
    const { useProjectStore } = (await import(
      /* @vite-ignore */ '/src/state/project.ts' as string
    )) as typeof import('../../src/state/project');
    const { useJobStore } = (await import(/* @vite-ignore */ '/src/state/job.ts' as string)) as typeof import('../../src/state/job');
    const { getEngineClient } = (await import(/* @vite-ignore */ '/src/state/gpu.ts' as string)) as typeof import('../../src/state/gpu');
    const ended = new Promise<{ status: string; code: string | null; error: string | null }>((resolve) => {
      let lost = false;
      const off = useJobStore.subscribe((s) => {
        const j = s.jobs.preview;
        if (j.status === 'running' && !lost) {
          lost = true;
          // Once the request has reached the worker (an update takes over a second here).
          setTimeout(() => getEngineClient().simulateDeviceLoss(), 250);
        } else if (lost && j.status !== 'running') {
          off();
          resolve({ status: j.status, code: j.code, error: j.error });
        }
      });
    });
    useProjectStore.getState().edit((p) => ({
      ...p,
      trajectories: [
        {
          ...p.trajectories[0],
          points: [
            { x: 160, y: 150 },
            { x: 150, y: 160 },
          ],
        },
      ],
    }));
    return ended;
  });
  expect(failure).toMatchObject({ status: 'error', code: 'gpu-device-lost' });
  await expect(harness.getByTestId('preview-error')).toContainText('The GPU device was lost');
  const beforeRecovery = JSON.stringify((await sample()).near);
  await harness.evaluate(async () => {
    const { useProjectStore } = (await import(
      /* @vite-ignore */ '/src/state/project.ts' as string
    )) as typeof import('../../src/state/project');
    useProjectStore.getState().edit((p) => ({
      ...p,
      trajectories: [
        {
          ...p.trajectories[0],
          points: [
            { x: 160, y: 150 },
            { x: 172, y: 138 },
          ],
        },
      ],
    }));
  });
  await expect(harness.getByTestId('preview-error')).toHaveCount(0, { timeout: 120_000 });
  await expect.poll(async () => JSON.stringify((await sample()).near) !== beforeRecovery, { timeout: 120_000 }).toBe(true);
});
