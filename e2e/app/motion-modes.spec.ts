/**
 * Motion modes as a user drives them: choose Rigid with the mouse, paint, drag, Generate; the
 * painted object moves as a whole (every interior pixel of the last frame is the still's pixel
 * 20 px to the left, as the drag says). Shape paint, Shift+click to change a patch's mode
 * and the Edge slider are saved in the project and undone like any edit.
 */
import { test, expect, type Page } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { type CanvasBox, canvasBox, clickAt, dragThrough, loadImage, openApp, project } from './editor-helpers';

/** With the brush chosen: a 40-px stroke across (170..230, 160), then a 20-px drag inside it. */
async function paintAndDrag(page: Page, b: CanvasBox): Promise<void> {
  await page.getByTestId('brush-size').fill('40');
  await dragThrough(page, b, [
    [170, 160],
    [200, 160],
    [230, 160],
  ]);
  await page.getByTestId('tool-trajectory').click();
  await clickAt(page, b, 200, 160);
  await clickAt(page, b, 220, 160);
  await page.keyboard.press('Enter');
}

test('rigid paint moves the object under the drag as a whole; modes and edge are saved and undoable', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  const b = await canvasBox(page);

  // Rigid paint (the mode button also picks the brush), then a 20-px drag inside it.
  await page.getByTestId('brush-motion-rigid').click();
  await expect(page.getByTestId('tool-brush')).toHaveAttribute('aria-checked', 'true');
  await paintAndDrag(page, b);
  let p = await project(page);
  expect(p.brush.map((s: { motion?: string }) => s.motion)).toEqual(['rigid']);

  // Shape paint elsewhere; Shift+click on it with Rigid chosen turns that patch rigid; undo twice removes it.
  await page.getByTestId('brush-motion-shape').click();
  await dragThrough(page, b, [
    [420, 60],
    [450, 70],
  ]);
  p = await project(page);
  expect(p.brush.map((s: { motion?: string }) => s.motion)).toEqual(['rigid', 'shape']);
  await page.getByTestId('brush-motion-rigid').click();
  await page.keyboard.down('Shift');
  await clickAt(page, b, 435, 65);
  await page.keyboard.up('Shift');
  p = await project(page);
  expect(p.brush.map((s: { motion?: string }) => s.motion)).toEqual(['rigid', 'rigid']);
  expect(p.brush).toHaveLength(2);
  await page.keyboard.press('Control+z');
  p = await project(page);
  expect(p.brush.map((s: { motion?: string }) => s.motion)).toEqual(['rigid', 'shape']);
  await page.keyboard.press('Control+z');
  p = await project(page);
  expect(p.brush).toHaveLength(1);

  // The Edge slider: a click in its middle sets about half of 0..32; undo puts it back to 0.
  const slider = await page.getByTestId('brush-feather').boundingBox();
  if (!slider) throw new Error('edge slider not visible');
  await page.mouse.click(slider.x + slider.width / 2, slider.y + slider.height / 2);
  p = await project(page);
  expect(p.settings.brushFeather).toBeGreaterThan(10);
  expect(p.settings.brushFeather).toBeLessThan(22);
  await page.keyboard.press('Control+z');
  p = await project(page);
  expect(p.settings.brushFeather).toBe(0);
  expect(p.brush.map((s: { motion?: string }) => s.motion)).toEqual(['rigid']);

  // Generate: the region's interior is the still shifted by exactly the drag.
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  const play = page.getByTestId('player-play');
  if ((await play.getAttribute('data-playing')) === 'true') await play.click();
  const grab = async (k: number) => {
    await page.getByTestId('player-scrub').fill(String(k));
    await expect(page.getByTestId('player-canvas')).toHaveAttribute('data-frame', String(k));
    return page.evaluate(() => {
      const c = document.querySelector('[data-testid="player-canvas"]') as HTMLCanvasElement;
      return { w: c.width, data: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data) };
    });
  };
  const first = await grab(0);
  const last = await grab(15);
  expect(first.w).toBe(512);
  let worst = 0;
  let moved = 0;
  // Well inside the painted capsule (radius 40 around y = 160, x 170..230).
  for (let y = 140; y <= 180; y++) {
    for (let x = 165; x <= 235; x++) {
      for (let ch = 0; ch < 3; ch++) {
        const a = first.data[(y * 512 + x) * 4 + ch];
        worst = Math.max(worst, Math.abs(last.data[(y * 512 + x + 20) * 4 + ch] - a));
        if (last.data[(y * 512 + x) * 4 + ch] !== a) moved++;
      }
    }
  }
  expect(moved).toBeGreaterThan(1000);
  expect(worst).toBeLessThanOrEqual(1);
});

test("a trajectory's mode moves the fluid-painted patch under its start rigidly; saved and undoable", async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  const b = await canvasBox(page);
  // Fluid paint (the default mode), a 20-px drag inside it, then Rigid for that drag in its row.
  await page.getByTestId('tool-brush').click();
  await paintAndDrag(page, b);
  const select = page.getByTestId('trajectory-motion');
  await expect(select).toHaveValue('');
  await select.selectOption('rigid');
  let p = await project(page);
  expect(p.brush.map((s: { motion?: string }) => s.motion ?? 'fluid')).toEqual(['fluid']);
  expect(p.trajectories[0].motion).toBe('rigid');
  await page.getByTestId('trajectory-panel').screenshot({ path: test.info().outputPath('trajectory-panel.png') });
  await select.blur();
  await page.keyboard.press('Control+z');
  p = await project(page);
  expect(p.trajectories[0].motion).toBeUndefined();
  await page.keyboard.press('Control+y');
  p = await project(page);
  expect(p.trajectories[0].motion).toBe('rigid');
  await expect(select).toHaveValue('rigid');

  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  const play = page.getByTestId('player-play');
  if ((await play.getAttribute('data-playing')) === 'true') await play.click();
  const grab = async (k: number) => {
    await page.getByTestId('player-scrub').fill(String(k));
    await expect(page.getByTestId('player-canvas')).toHaveAttribute('data-frame', String(k));
    return page.evaluate(() => {
      const c = document.querySelector('[data-testid="player-canvas"]') as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
    });
  };
  const first = await grab(0);
  const last = await grab(15);
  await page.getByTestId('player-canvas').screenshot({ path: test.info().outputPath('last-frame.png') });
  // Well inside the painted capsule the last frame is the still shifted by exactly the drag.
  let worst = 0;
  for (let y = 140; y <= 180; y++)
    for (let x = 165; x <= 235; x++)
      for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(last[(y * 512 + x + 20) * 4 + ch] - first[(y * 512 + x) * 4 + ch]));
  expect(worst).toBeLessThanOrEqual(1);
});
