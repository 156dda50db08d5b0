/**
 * Acceptance test of the editor, as a user drives it: real photo in, two trajectories (clicked
 * and sketched) and an anchor drawn with the mouse, brush painted and erased, a point moved,
 * undo/redo, reload (autosave), save + reopen the project file; then the app's stage-1
 * conditions are checked against values computed here in Node (editor-expected.ts).
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { mediaPath } from '../fixtures';
import { expectedConditions, type ProjectIn } from './editor-expected';
import { canvasBox, clickAt, dragThrough, loadImage, openApp, project, waitSaved } from './editor-helpers';

test('draw, edit, undo, reload, save/open, and the sparse conditions match an independent computation', async ({ page }, testInfo) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  let p = await project(page);
  expect(p.image).toMatchObject({ name: 'one.png', width: 320, height: 320 });
  expect(p.canvas).toEqual({ width: 512, height: 320 });
  // Cover crop of a square photo onto 512x320: full width, centred 200-pixel band.
  expect(p.crop).toEqual({ x: 0, y: 60, width: 320, height: 200 });

  const b = await canvasBox(page);
  // Trajectory 1: three clicks, Enter.
  await clickAt(page, b, 100, 100);
  await clickAt(page, b, 160, 120);
  await clickAt(page, b, 220, 90);
  await page.keyboard.press('Enter');
  // Trajectory 2: sketched freehand.
  await dragThrough(page, b, [
    [300, 220],
    [340, 240],
    [380, 250],
    [420, 230],
    [450, 200],
  ]);
  // Anchor: one click, Enter.
  await clickAt(page, b, 460, 60);
  await page.keyboard.press('Enter');

  p = await project(page);
  expect(p.trajectories).toHaveLength(3);
  const [t1, t2, t3] = p.trajectories;
  expect(t1.points).toEqual([
    { x: 100, y: 100 },
    { x: 160, y: 120 },
    { x: 220, y: 90 },
  ]);
  expect(t2.points.length).toBeGreaterThanOrEqual(2);
  expect(t2.points.length).toBeLessThanOrEqual(8);
  expect(t2.points[0]).toEqual({ x: 300, y: 220 });
  expect(t2.points[t2.points.length - 1]).toEqual({ x: 450, y: 200 });
  expect(t3.points).toEqual([{ x: 460, y: 60 }]);
  expect(new Set(p.trajectories.map((t: { color: string }) => t.color)).size).toBe(3);
  await expect(page.getByTestId('trajectory-row')).toHaveCount(3);

  // Timing of trajectory 1: frames 2..12 (typed in the side panel).
  const row1 = page.getByTestId('trajectory-row').nth(0);
  await row1.getByTestId('start-frame').fill('2');
  await row1.getByTestId('end-frame').fill('12');

  // Flow Unit 40 via the slider.
  await page.getByTestId('flow-unit').fill('40');
  await expect(page.getByTestId('flow-unit-value')).toHaveText('40');

  // Brush: paint a stroke, then erase across it.
  await page.getByTestId('tool-brush').click();
  await page.getByTestId('brush-size').fill('30');
  await dragThrough(page, b, [
    [90, 95],
    [200, 150],
    [310, 215],
  ]);
  await page.getByTestId('tool-erase').click();
  await page.getByTestId('brush-size').fill('8');
  await dragThrough(page, b, [
    [110, 60],
    [112, 140],
  ]);
  p = await project(page);
  expect(p.brush.map((s: { mode: string; radius: number }) => [s.mode, s.radius])).toEqual([
    ['paint', 30],
    ['erase', 8],
  ]);

  // Move trajectory 1's middle point (with the trajectory tool).
  await page.getByTestId('tool-trajectory').click();
  const beforeMove = await project(page);
  await dragThrough(page, b, [
    [160, 120],
    [170, 140],
  ]);
  p = await project(page);
  expect(p.trajectories[0].points[1]).toEqual({ x: 170, y: 140 });
  const afterMove = p;

  // Undo (keyboard) restores the point, redo (button) brings the move back.
  await page.keyboard.press('Control+z');
  expect(await project(page)).toEqual(beforeMove);
  await page.getByTestId('redo').click();
  expect(await project(page)).toEqual(afterMove);
  // Undo twice more removes the erase stroke, redo puts it back.
  await page.getByTestId('undo').click();
  await page.getByTestId('undo').click();
  expect((await project(page)).brush).toHaveLength(1);
  await page.keyboard.press('Control+Shift+z');
  await page.keyboard.press('Control+Shift+z');
  expect(await project(page)).toEqual(afterMove);

  // Esc during a drag cancels it.
  {
    const [sx, sy] = [b.x + (220 * b.width) / b.canvasW, b.y + (90 * b.height) / b.canvasH];
    await page.mouse.move(sx, sy);
    await page.mouse.down();
    await page.mouse.move(sx + 40, sy + 40, { steps: 5 });
    await page.keyboard.press('Escape');
    await page.mouse.up();
    expect(await project(page)).toEqual(afterMove);
  }

  await page.screenshot({ path: testInfo.outputPath('editor.png') });

  // Reload: autosave restores exactly the same project.
  await waitSaved(page);
  await page.reload();
  await expect(page.getByTestId('app')).toBeVisible();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect(await project(page)).toEqual(afterMove);

  // Save the project file, change the project, open the file: back to the saved state.
  const downloadPromise = page.waitForEvent('download');
  await page.getByTestId('save-project').click();
  const download = await downloadPromise;
  const savedPath = testInfo.outputPath('project.json');
  await download.saveAs(savedPath);
  const file = JSON.parse(readFileSync(savedPath, 'utf8'));
  expect(file.project).toEqual(afterMove);
  expect(file.image).toMatch(/^data:image\/png;base64,/);
  expect(Buffer.from(file.image.split(',')[1], 'base64').equals(readFileSync(mediaPath('softsplat/one.png')))).toBe(true);

  await page.getByTestId('trajectory-row').nth(1).getByTestId('delete-trajectory').click();
  await expect(page.getByTestId('trajectory-row')).toHaveCount(2);
  await page.getByTestId('project-input').setInputFiles(savedPath);
  await expect(page.getByTestId('trajectory-row')).toHaveCount(3);
  expect(await project(page)).toEqual(afterMove);

  // The conditions the engines receive, against the independent computation.
  // Shipped gzip-compressed (the arrays are mostly constant): 40 MB of float32 in a few hundred KB.
  const got = await page.evaluate(async () => {
    const c = window.__motionI2V!.conditions();
    const pack = async (a: Float32Array) => {
      const gz = new Blob([a as Float32Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
      const bytes = new Uint8Array(await new Response(gz).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    };
    return {
      frames: c.frames,
      width: c.width,
      height: c.height,
      flow: await pack(c.flow),
      mask: await pack(c.mask),
      normalized: await pack(c.normalized),
      staticMask: await pack(c.staticMask),
    };
  });
  const f32 = (s: string) => {
    const bytes = new Uint8Array(gunzipSync(Buffer.from(s, 'base64'))); // copy: aligned for Float32Array
    return new Float32Array(bytes.buffer);
  };
  const exp = expectedConditions(afterMove as ProjectIn);
  expect([got.frames, got.width, got.height]).toEqual([16, 512, 320]);
  const mismatches = (a: Float32Array, e: Float32Array, tol: number) => {
    expect(a.length).toBe(e.length);
    let n = 0;
    let first = -1;
    for (let i = 0; i < a.length; i++) {
      if (!(Math.abs(a[i] - e[i]) <= tol)) {
        n++;
        if (first < 0) first = i;
      }
    }
    return { n, first, got: first >= 0 ? a[first] : null, want: first >= 0 ? e[first] : null };
  };
  expect(mismatches(f32(got.staticMask), exp.staticMask, 0)).toEqual({ n: 0, first: -1, got: null, want: null });
  expect(mismatches(f32(got.mask), exp.mask, 0)).toEqual({ n: 0, first: -1, got: null, want: null });
  expect(mismatches(f32(got.flow), exp.flow, 1e-4)).toEqual({ n: 0, first: -1, got: null, want: null });
  expect(mismatches(f32(got.normalized), exp.normalized, 1e-6)).toEqual({ n: 0, first: -1, got: null, want: null });
  // The checks above can fail: the drags really produced motion and the brush really painted.
  const exFlow = exp.flow;
  expect(exFlow.some((v) => Math.abs(v) > 10)).toBe(true);
  expect(exp.staticMask.some((v) => v === 0) && exp.staticMask.some((v) => v === 1)).toBe(true);
});
