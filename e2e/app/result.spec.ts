/**
 * The result as people expect it (issues 14 and 15), driven as a user would in the production
 * build: clip controls in the Generate panel (careless input clamped, undoable), a seamless loop
 * generated through the checkbox (frame N equals frame 0 and the still, no seam: checked on the
 * player's pixels against the same motion without loop, whose wrap IS a seam), the result in the
 * main area beside the editor with every preview view on screen at 1280x720 and 1920x1080, and
 * the result and the undo history back after a reload. A second test uses only the keyboard.
 */
import { test, expect, type Locator, type Page } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { canvasBox, clickAt, loadImage, openApp, project, waitSaved } from './editor-helpers';
import { capturePlayerFrames } from './generate.helpers';

/** FNV-1a of pixel bytes, defined in the page. */
const HASH = `window.hashPixels = (d) => { let h = 2166136261; for (let i = 0; i < d.length; i++) { h ^= d[i]; h = Math.imul(h, 16777619); } return h >>> 0; };`;
declare function hashPixels(d: Uint8ClampedArray): number;

/** One trajectory drawn with the mouse: a car-sized drag to the right and up. */
async function drawTrajectory(page: Page): Promise<void> {
  const b = await canvasBox(page);
  await page.getByTestId('tool-trajectory').click();
  await clickAt(page, b, 200, 170);
  await clickAt(page, b, 230, 160);
  await clickAt(page, b, 262, 150);
  await page.keyboard.press('Enter');
}

async function generate(page: Page): Promise<void> {
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
}

/** Mean absolute RGB difference of consecutive captured player frames 0..n-1, and of frame n-1 with frame 0 (the wrap). */
function cycleSteps(page: Page, n: number) {
  return page.evaluate((n) => {
    const f = (window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames;
    const mad = (a: ImageData, b: ImageData) => {
      let s = 0;
      for (let i = 0; i < a.data.length; i += 4) for (let c = 0; c < 3; c++) s += Math.abs(a.data[i + c] - b.data[i + c]);
      return s / ((a.data.length / 4) * 3);
    };
    const steps = Array.from({ length: n - 1 }, (_, i) => mad(f[i], f[i + 1]));
    return { steps, wrap: mad(f[n - 1], f[0]) };
  }, n);
}

/**
 * The whole box is inside the viewport after scrolling its own panel vertically; nothing may
 * need a sideways scroll (a panel scrolled sideways to show it counts as off screen).
 */
async function expectOnScreen(page: Page, el: Locator, what: string, minWidth = 50): Promise<void> {
  await el.scrollIntoViewIfNeeded();
  const sideways = await el.evaluate((e) => {
    const out: string[] = [];
    for (let p = e.parentElement; p; p = p.parentElement) if (p.scrollLeft !== 0) out.push(p.className || p.tagName);
    return out;
  });
  expect(sideways, `${what}: panels scrolled sideways to show it`).toEqual([]);
  const box = await el.boundingBox();
  const vp = page.viewportSize()!;
  expect(box, `${what} has a box`).not.toBeNull();
  const b = box!;
  expect(b.width, `${what} width`).toBeGreaterThan(minWidth);
  expect(b.x, `${what} left`).toBeGreaterThanOrEqual(0);
  expect(b.y, `${what} top`).toBeGreaterThanOrEqual(0);
  expect(b.x + b.width, `${what} right edge at ${vp.width}x${vp.height}`).toBeLessThanOrEqual(vp.width + 0.5);
  expect(b.y + b.height, `${what} bottom edge at ${vp.width}x${vp.height}`).toBeLessThanOrEqual(vp.height + 0.5);
}

test('clip controls, seamless loop through the UI, result beside the editor on screen, kept after reload with its undo history', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.addInitScript({ content: HASH });
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawTrajectory(page);

  // Careless input is clamped by the validator; the field then shows what is stored.
  const frames = page.getByTestId('clip-frames');
  await frames.fill('999');
  await frames.press('Tab');
  await expect(frames).toHaveValue('64');
  expect((await project(page)).settings.frames).toBe(64);
  await frames.fill('');
  await frames.press('Tab');
  await expect(frames).toHaveValue('64');
  await frames.fill('9');
  await frames.press('Enter');
  await expect(frames).toHaveValue('9');
  const seed = page.getByTestId('clip-seed');
  await page.getByTestId('clip-new-seed').click();
  const newSeed = (await project(page)).settings.seed;
  await expect(seed).toHaveValue(String(newSeed));
  await page.getByTestId('clip-fps').selectOption('10');
  expect((await project(page)).settings).toMatchObject({ frames: 9, fps: 10, loop: false });

  // Without loop: the wrap from the last frame back to frame 0 is a seam (the control).
  const editorBefore = await page.getByTestId('editor-canvas').boundingBox();
  await generate(page);
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  await expect(page.getByTestId('result-pane')).toBeVisible();
  await expect(page.getByTestId('editor-canvas')).toBeInViewport({ ratio: 1 });
  await capturePlayerFrames(page, 9);
  const plain = await cycleSteps(page, 9);
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  console.log('no loop: steps', plain.steps.map((s) => s.toFixed(2)).join(' '), 'wrap', plain.wrap.toFixed(2));
  expect(plain.wrap).toBeGreaterThan(3 * median(plain.steps));

  // The loop checkbox, undoable.
  await page.getByTestId('clip-loop').check();
  expect((await project(page)).settings.loop).toBe(true);
  await page.keyboard.press('Control+z');
  expect((await project(page)).settings.loop).toBe(false);
  await page.keyboard.press('Control+Shift+z');
  expect((await project(page)).settings.loop).toBe(true);

  await generate(page);
  await expect(page.getByTestId('result-info')).toContainText('seamless loop');
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  await capturePlayerFrames(page, 9);
  const loop = await cycleSteps(page, 9);
  console.log('loop: steps', loop.steps.map((s) => s.toFixed(2)).join(' '), 'wrap', loop.wrap.toFixed(2));
  // Frame N (8) is frame 0, and frame 0 is the still the engine was given.
  const still = await page.evaluate(async () => {
    const img = await window.__motionI2V!.canvasImage();
    const f = (window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames;
    let lastVsFirst = 0;
    let firstVsStill = 0;
    for (let i = 0; i < img.data.length; i++) {
      if (f[8].data[i] !== f[0].data[i]) lastVsFirst++;
      if (f[0].data[i] !== img.data[i]) firstVsStill++;
    }
    return { lastVsFirst, firstVsStill };
  });
  expect(still).toEqual({ lastVsFirst: 0, firstVsStill: 0 });
  expect(loop.wrap).toBe(0);
  // No seam: every step of the cycle 0..8 (= 0) is within 3x the median step, and it moves.
  expect(Math.max(...loop.steps)).toBeLessThanOrEqual(3 * median(loop.steps));
  expect(median(loop.steps)).toBeGreaterThan(0.05);
  // Files leave the repeated last frame out.
  await expect(page.getByTestId('export-loop-hint')).toContainText('8 frames');

  // Every preview view on screen, at both sizes (the live preview and its motion field too).
  await page.getByTestId('live-preview-toggle').check();
  await page.getByTestId('preview-show-flow').check();
  await expect(page.getByTestId('preview-flow')).toBeVisible({ timeout: 90_000 });
  await expect.poll(() => page.getByTestId('preview-flow').evaluate((c: HTMLCanvasElement) => c.width), { timeout: 90_000 }).toBe(512);
  for (const size of [
    { width: 700, height: 500 },
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    for (const [id, what, minWidth] of [
      ['editor-canvas', 'editor', 50],
      ['player-canvas', 'player', 50],
      ['preview-frame', 'live preview', 50],
      ['preview-flow', 'motion field', 50],
      ['player-play', 'play button', 20],
      ['player-scrub', 'frame slider', 40],
      ['player-fullscreen', 'full-screen button', 20],
    ] as const) {
      await expectOnScreen(page, page.getByTestId(id), what, minWidth);
    }
    expect(await page.evaluate(() => [window.scrollX, window.scrollY])).toEqual([0, 0]);
    // The export controls fit their column: nothing cut (the button's words wrap, the select shrinks).
    for (const id of ['export-format', 'export-quality', 'export-button']) {
      const fit = await page.getByTestId(id).evaluate((el) => {
        const panel = el.closest('[data-testid="export-panel"]')!.getBoundingClientRect();
        const box = el.getBoundingClientRect();
        return { inside: box.left >= panel.left - 0.5 && box.right <= panel.right + 0.5, clipped: el.scrollWidth > el.clientWidth + 1 };
      });
      expect(fit, `${id} at ${size.width}x${size.height}`).toEqual({ inside: true, clipped: false });
    }
    await page.screenshot({ path: testInfo.outputPath(`result-${size.width}x${size.height}.png`) });
  }
  // The player uses the space it has: at 1920x1080 it is larger than the video itself.
  expect((await page.getByTestId('player-canvas').boundingBox())!.width).toBeGreaterThan(512);
  await page.getByTestId('view-result').click();
  await expectOnScreen(page, page.getByTestId('player-canvas'), 'player alone');
  await page.getByTestId('view-split').click();
  expect(editorBefore).not.toBeNull();

  // After a reload: the same video (pixels) and the undo history.
  await page.getByTestId('live-preview-toggle').uncheck();
  await expect(page.getByTestId('result-kept')).toHaveAttribute('data-status', 'saved', { timeout: 30_000 });
  await waitSaved(page);
  const frame4 = await page.evaluate(() =>
    hashPixels((window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames[4].data),
  );
  await page.reload();
  await expect(page.getByTestId('player-canvas')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('result-info')).toContainText('kept from your last visit');
  await expect(page.getByTestId('player-frame')).toContainText('/9');
  await page.getByTestId('player-scrub').fill('4');
  await expect(page.getByTestId('player-canvas')).toHaveAttribute('data-frame', '4');
  expect(
    await page.evaluate(() => {
      const c = document.querySelector('[data-testid="player-canvas"]') as HTMLCanvasElement;
      return hashPixels(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
    }),
  ).toBe(frame4);
  expect((await project(page)).settings).toMatchObject({ frames: 9, fps: 10, loop: true, seed: newSeed });
  await expect(page.getByTestId('undo')).toBeEnabled();
  await page.keyboard.press('Control+z');
  expect((await project(page)).settings.loop).toBe(false);
  await page.keyboard.press('Control+z');
  expect((await project(page)).settings.fps).toBe(8);
  await page.keyboard.press('Control+Shift+z');
  await page.keyboard.press('Control+Shift+z');
  expect((await project(page)).settings).toMatchObject({ fps: 10, loop: true });
  // A new photo under the kept video: the video says it was made from the previous photo.
  await expect(page.getByTestId('result-other-image')).toHaveCount(0);
  await loadImage(page, mediaPath('softsplat/two.png'));
  await expect(page.getByTestId('result-other-image')).toContainText('made from the previous photo (one.png)');
});

test('keyboard only: tools, undo/redo, clip length, Generate and cancel, views, play/pause, export; a full storage is said in words', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  // This browser's storage is (nearly) full: the video cannot be kept for the next visit.
  await page.addInitScript({ content: 'navigator.storage.estimate = async () => ({ usage: 9e6, quota: 1e7 });' });
  await openApp(page);
  // Set-up: a photo (file chooser) and one drawn path; from here on only the keyboard.
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawTrajectory(page);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const k = page.keyboard;

  for (const [key, tool] of [
    ['b', 'brush'],
    ['e', 'erase'],
    ['c', 'crop'],
    ['t', 'trajectory'],
  ] as const) {
    await k.press(key);
    await expect(page.getByTestId(`tool-${tool}`)).toHaveClass(/active/);
  }
  const points = async () => (await project(page)).trajectories[0]?.points.length ?? 0;
  expect(await points()).toBe(3);
  await k.press('Control+z');
  expect(await points()).toBe(2);
  await k.press('Control+Shift+z');
  expect(await points()).toBe(3);
  await k.press('Control+z');
  await k.press('Control+y');
  expect(await points()).toBe(3);

  await page.getByTestId('clip-frames').focus();
  await k.press('Control+a');
  await k.type('5');
  await k.press('Enter');
  expect((await project(page)).settings.frames).toBe(5);

  // G generates, Esc cancels it (no error), G again finishes.
  await k.press('g');
  await expect(page.getByTestId('cancel-button')).toBeVisible();
  await k.press('Escape');
  await expect(page.getByTestId('job-cancelled')).toBeVisible();
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  await k.press('g');
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(page.getByTestId('view-split')).toHaveAttribute('aria-pressed', 'true');
  const kept = page.getByTestId('result-kept');
  await expect(kept).toHaveAttribute('data-status', 'full');
  await expect(kept).toHaveAttribute('role', 'alert');
  await expect(kept).toContainText(/storage for this site is full\. Export the video to keep it/);

  // V cycles the views; the editor is never scrolled away.
  await k.press('v');
  await expect(page.getByTestId('view-result')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('editor-pane')).toHaveCount(0);
  await k.press('v');
  await expect(page.getByTestId('view-editor')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('result-pane')).toHaveCount(0);
  await k.press('v');
  await expect(page.getByTestId('view-split')).toHaveAttribute('aria-pressed', 'true');

  // K and space pause and play.
  const play = page.getByTestId('player-play');
  await expect(play).toHaveAttribute('data-playing', 'true');
  await k.press('k');
  await expect(play).toHaveAttribute('data-playing', 'false');
  const shown = await page.getByTestId('player-canvas').getAttribute('data-frame');
  await page.waitForTimeout(400);
  await expect(page.getByTestId('player-canvas')).toHaveAttribute('data-frame', shown!);
  await k.press(' ');
  await expect(play).toHaveAttribute('data-playing', 'true');

  // X exports with the chosen format.
  const download = page.waitForEvent('download');
  await k.press('x');
  expect((await download).suggestedFilename()).toBe('motion-i2v_one_512x320_5f_8fps_h264.mp4');
  await expect(page.getByTestId('export-status')).toHaveAttribute('data-status', 'done');
});

/** Reads or writes one record of the app's IndexedDB store with the raw IndexedDB API (not the app's code). */
function rawStore(page: Page, op: 'keys' | 'get' | 'put', key = '', value: unknown = null): Promise<unknown> {
  return page.evaluate(
    ([op, key, value]) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('motion-i2v');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const tx = db.transaction('keyval', op === 'put' ? 'readwrite' : 'readonly');
          const store = tx.objectStore('keyval');
          const r = op === 'keys' ? store.getAllKeys() : op === 'get' ? store.get(key) : store.put(value, key);
          tx.oncomplete = () => {
            db.close();
            resolve(op === 'put' ? null : r.result);
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    [op, key, value] as const,
  );
}

test('a stored undo history that fails the validator: the project is restored without it, and nothing is deleted', async ({ page }) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawTrajectory(page);
  await waitSaved(page);
  const key = ((await rawStore(page, 'keys')) as string[]).find((k) => k.startsWith('history:'));
  expect(key).toBeTruthy();
  const stored = (await rawStore(page, 'get', key)) as { past: unknown[]; future: unknown[] };
  expect(stored.past.length).toBe(4); // the photo, then three points
  expect(stored.future).toEqual([]);

  const damaged = { savedAt: '2026-01-01T00:00:00.000Z', past: [{ version: 1, canvas: 'nonsense' }], future: [] };
  await rawStore(page, 'put', key, damaged);
  await page.reload();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect((await project(page)).trajectories[0].points).toHaveLength(3);
  await expect(page.getByTestId('undo')).toBeDisabled();
  await expect(page.getByTestId('info-banner')).toContainText('undo history was not restored in full');
  expect(await rawStore(page, 'get', key)).toEqual(damaged);
});
