/**
 * Never lose the user's work (issue 9): frame edits that restore refused, files with a crop that
 * does not fit the real photo, a stored project that cannot be restored, two tabs, the last edit
 * before a reload, Enter on buttons while drawing, the brush summary and animated GIFs.
 * Everything is driven as a user would (mouse, keyboard, file inputs, reloads, a second tab);
 * IndexedDB is read directly (not through the app's code) to check what is stored.
 */
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { mediaPath } from '../fixtures';
import { canvasBox, clickAt, dragThrough, loadImage, openApp, project, waitSaved } from './editor-helpers';

/** Every key of the app's IndexedDB store, read with the raw IndexedDB API. */
async function storedKeys(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const req = indexedDB.open('motion-i2v');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const r = db.transaction('keyval').objectStore('keyval').getAllKeys();
          r.onsuccess = () => {
            resolve((r.result as string[]).slice().sort());
            db.close();
          };
          r.onerror = () => reject(r.error);
        };
      }),
  );
}

async function storedValue(page: Page, key: string): Promise<unknown> {
  return page.evaluate(
    (key) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('motion-i2v');
        req.onsuccess = () => {
          const db = req.result;
          const r = db.transaction('keyval').objectStore('keyval').get(key);
          r.onsuccess = async () => {
            const v = r.result;
            db.close();
            resolve(v instanceof Blob ? { blobBytes: v.size } : v);
          };
          r.onerror = () => reject(r.error);
        };
        req.onerror = () => reject(req.error);
      }),
    key,
  );
}

async function putStored(page: Page, key: string, value: unknown): Promise<void> {
  await page.evaluate(
    ([key, value]) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('motion-i2v');
        req.onsuccess = () => {
          const db = req.result;
          const tx = db.transaction('keyval', 'readwrite');
          tx.objectStore('keyval').put(value, key as string);
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
        req.onerror = () => reject(req.error);
      }),
    [key, value] as const,
  );
}

const imageKeys = (keys: string[]) => keys.filter((k) => k.startsWith('image:'));
const projectKeys = (keys: string[]) => keys.filter((k) => k.startsWith('project:'));

test('item 1: frames 10 then 5 are stored in order, shown as stored, and survive a reload with the photo', async ({ page }) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  const b = await canvasBox(page);
  await clickAt(page, b, 100, 100);
  await clickAt(page, b, 200, 120);
  await page.keyboard.press('Enter');
  const row = page.getByTestId('trajectory-row').first();
  await row.getByTestId('start-frame').fill('10');
  await row.getByTestId('end-frame').fill('5');
  await row.getByTestId('end-frame').blur();
  // What is stored is in order, and the panel shows exactly that.
  const timing = (await project(page)).trajectories[0].timing;
  expect(timing.startFrame).toBeLessThanOrEqual(timing.endFrame);
  expect(timing).toMatchObject({ startFrame: 5, endFrame: 5 });
  await expect(row.getByTestId('start-frame')).toHaveValue('5');
  await expect(row.getByTestId('end-frame')).toHaveValue('5');
  // Typing "12" into the end field passes through "1": the start must not be pulled down by it.
  await row.getByTestId('end-frame').click();
  await page.keyboard.press('Control+a');
  await page.keyboard.type('12');
  await row.getByTestId('end-frame').blur();
  expect((await project(page)).trajectories[0].timing).toMatchObject({ startFrame: 5, endFrame: 12 });
  await waitSaved(page);
  const before = await project(page);
  await page.reload();
  await expect(page.getByTestId('app')).toBeVisible();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect(await project(page)).toEqual(before);
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(imageKeys(await storedKeys(page))).toHaveLength(1);
});

test('item 1: a file whose crop fits the size it claims but not the real photo is repaired against the real photo', async ({
  page,
}, testInfo) => {
  await openApp(page);
  const png = readFileSync(mediaPath('softsplat/one.png')); // really 320 x 320
  const doc = {
    version: 1,
    // Claims 1920 x 1080 with a crop that fits that, but not 320 x 320.
    image: { id: 'claimed-id', name: 'one.png', width: 1920, height: 1080 },
    canvas: { width: 512, height: 320 },
    crop: { x: 96, y: 0, width: 1728, height: 1080 },
    trajectories: [
      {
        id: 'a',
        points: [
          { x: 10, y: 20 },
          { x: 100, y: 40 },
        ],
        color: '#ff3b30',
        timing: { mode: 'reference', startFrame: 9, endFrame: 3 },
      },
    ],
    brush: [],
    settings: { flowUnit: 64, frames: 16, fps: 8, prompt: '', negativePrompt: '', seed: 42, steps: 25, guidance: 7, loop: false },
  };
  const file = {
    format: 'motion-i2v-web/project',
    version: 1,
    savedAt: '2026-01-01T00:00:00Z',
    project: doc,
    image: `data:image/png;base64,${png.toString('base64')}`,
  };
  await page
    .getByTestId('project-input')
    .setInputFiles({ name: 'claims.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
  await expect(page.getByTestId('info-banner')).toContainText('with repairs');
  await expect(page.getByTestId('info-banner')).toContainText('320x320');
  const p = await project(page);
  expect(p.image).toMatchObject({ width: 320, height: 320 });
  expect(p.image.id).not.toBe('claimed-id'); // ids are content hashes, not what a file claims
  // The crop lies inside the real photo.
  expect(p.crop.x).toBeGreaterThanOrEqual(0);
  expect(p.crop.y).toBeGreaterThanOrEqual(0);
  expect(p.crop.x + p.crop.width).toBeLessThanOrEqual(320 + 1e-6);
  expect(p.crop.y + p.crop.height).toBeLessThanOrEqual(320 + 1e-6);
  expect(p.trajectories[0].timing).toMatchObject({ startFrame: 3, endFrame: 9 });
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  await page.screenshot({ path: testInfo.outputPath('repaired-open.png') });
  await waitSaved(page);
  await page.reload();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect(await project(page)).toEqual(p);
});

test('item 1: a stored project that cannot be restored is kept with its photo and offered for download', async ({ page }, testInfo) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  const b = await canvasBox(page);
  await clickAt(page, b, 100, 100);
  await page.keyboard.press('Enter');
  await waitSaved(page);
  const keys = await storedKeys(page);
  const [pkey] = projectKeys(keys);
  const images = imageKeys(keys);
  expect(images).toHaveLength(1);
  // Damage the stored document the way an older bug or another program might.
  const record = (await storedValue(page, pkey)) as { savedAt: string; project: Record<string, unknown> };
  const damaged = { ...record, project: { ...record.project, canvas: { width: 500, height: 320 } } };
  await putStored(page, pkey, damaged);
  await page.reload();
  await expect(page.getByTestId('app')).toBeVisible();
  const notice = page.getByTestId('restore-problem');
  await expect(notice).toContainText('canvas width must be a multiple of 8');
  await page.screenshot({ path: testInfo.outputPath('restore-failed.png') });
  // Nothing was deleted: the record is as it was, the photo is still there.
  const after = await storedKeys(page);
  expect(after).toEqual(expect.arrayContaining([pkey, ...images]));
  expect(await storedValue(page, pkey)).toEqual(damaged);
  // The download is the stored record, byte for byte as JSON.
  const dl = page.waitForEvent('download');
  await notice.getByTestId('download-autosave').click();
  const path = testInfo.outputPath('autosave.json');
  await (await dl).saveAs(path);
  expect(JSON.parse(readFileSync(path, 'utf8')).record).toEqual(damaged);
  // Working on in this tab (a new project) and reloading still deletes nothing.
  await loadImage(page, mediaPath('softsplat/two.png'));
  await waitSaved(page);
  await page.reload();
  await expect(page.getByTestId('app')).toBeVisible();
  expect(await storedValue(page, pkey)).toEqual(damaged);
  expect(await storedKeys(page)).toEqual(expect.arrayContaining(images));
});

test('item 1: an old single autosave (before projects had ids) is restored', async ({ page }) => {
  await openApp(page);
  await putStored(page, 'project:autosave', {
    savedAt: '2026-01-01T00:00:00Z',
    project: {
      version: 1,
      image: null,
      canvas: { width: 320, height: 320 },
      crop: null,
      trajectories: [{ id: 'x', points: [{ x: 5, y: 6 }], color: '#ffffff', timing: { mode: 'reference', startFrame: 0, endFrame: 15 } }],
      brush: [],
      settings: { flowUnit: 64, frames: 16, fps: 8, prompt: 'old', negativePrompt: '', seed: 42, steps: 25, guidance: 7, loop: false },
    },
  });
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await expect(page.getByTestId('app')).toBeVisible();
  const p = await project(page);
  expect(p.settings.prompt).toBe('old');
  expect(p.canvas).toEqual({ width: 320, height: 320 });
});

test('item 2: two tabs keep their own projects and photos; a file claiming the current image id does not overwrite a photo', async ({
  context,
}, testInfo) => {
  const a = await context.newPage();
  await openApp(a);
  await loadImage(a, mediaPath('softsplat/one.png'));
  let ba = await canvasBox(a);
  await clickAt(a, ba, 100, 100);
  await clickAt(a, ba, 150, 150);
  await a.keyboard.press('Enter');
  await waitSaved(a);
  const projectA = await project(a);

  // Tab B opens: the most recent project is A's, which A is editing, so B works on a copy.
  const b = await context.newPage();
  await openApp(b);
  await expect(b.getByTestId('info-banner')).toContainText('open in another tab'); // information, not an error
  await expect(b.getByTestId('error-banner')).toHaveCount(0);
  expect(await project(b)).toEqual(projectA);
  await loadImage(b, mediaPath('softsplat/two.png'));
  const bb = await canvasBox(b);
  await clickAt(b, bb, 300, 200);
  await b.keyboard.press('Enter');
  await waitSaved(b);
  const projectB = await project(b);
  expect(projectB.image.id).not.toBe(projectA.image.id);

  // B reloads (which used to delete every photo but its own), then A edits, reloads, saves.
  await b.reload();
  await expect(b.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect(await project(b)).toEqual(projectB);
  await a.bringToFront();
  ba = await canvasBox(a);
  await clickAt(a, ba, 400, 60);
  await a.keyboard.press('Enter');
  await waitSaved(a);
  const projectA2 = await project(a);
  await a.reload();
  await expect(a.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect(await project(a)).toEqual(projectA2);
  // A's photo is still stored and usable: the canvas image the engines get is the real photo.
  const px = await a.evaluate(async () => {
    const img = await window.__motionI2V!.canvasImage();
    return [img.width, img.height, img.data.slice(0, 4).join(',')];
  });
  expect(px.slice(0, 2)).toEqual([512, 320]);
  const dl = a.waitForEvent('download');
  await a.getByTestId('save-project').click();
  const saved = testInfo.outputPath('a.json');
  await (await dl).saveAs(saved);
  const fileA = JSON.parse(readFileSync(saved, 'utf8'));
  expect(Buffer.from(fileA.image.split(',')[1], 'base64').equals(readFileSync(mediaPath('softsplat/one.png')))).toBe(true);
  // B's reload restored B, A's restored A: two stored projects, two photos.
  const keys = await storedKeys(a);
  expect(projectKeys(keys).length).toBeGreaterThanOrEqual(2);
  expect(imageKeys(keys)).toEqual(expect.arrayContaining([`image:${projectA.image.id}`, `image:${projectB.image.id}`]));

  // In B, open a file that claims A's image id but carries another photo: A's photo stays intact.
  const two = readFileSync(mediaPath('softsplat/two.png'));
  const forged = {
    ...fileA,
    project: { ...fileA.project, image: { ...fileA.project.image, id: projectA.image.id } },
    image: `data:image/png;base64,${two.toString('base64')}`,
  };
  await b
    .getByTestId('project-input')
    .setInputFiles({ name: 'forged.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(forged)) });
  await expect(b.getByTestId('info-banner')).toContainText('Opened');
  expect((await project(b)).image.id).toBe(projectB.image.id); // the id is the hash of two.png
  await a.reload();
  await expect(a.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  const dl2 = a.waitForEvent('download');
  await a.getByTestId('save-project').click();
  const saved2 = testInfo.outputPath('a2.json');
  await (await dl2).saveAs(saved2);
  expect(
    Buffer.from(JSON.parse(readFileSync(saved2, 'utf8')).image.split(',')[1], 'base64').equals(
      readFileSync(mediaPath('softsplat/one.png')),
    ),
  ).toBe(true);
  await a.screenshot({ path: testInfo.outputPath('tab-a.png') });
  await b.bringToFront();
  await b.screenshot({ path: testInfo.outputPath('tab-b.png') });
});

test('item 5: Enter on a focused button works while the Trajectory tool is active', async ({ page }) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await expect(page.getByTestId('tool-trajectory')).toHaveAttribute('aria-checked', 'true');
  const b = await canvasBox(page);
  await clickAt(page, b, 100, 100);
  await clickAt(page, b, 150, 100);
  // Still drawing; keyboard focus on "Save project", Enter: the download starts.
  await page.getByTestId('save-project').focus();
  const dl = page.waitForEvent('download', { timeout: 10_000 });
  await page.keyboard.press('Enter');
  expect((await dl).suggestedFilename()).toMatch(/\.motion-i2v\.json$/);
  // Enter on the canvas (focus on the page) still finishes the trajectory.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('drawing-hint')).toHaveCount(0);
});

test('item 6: an edit made 50 ms before a reload survives it', async ({ page }) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await waitSaved(page);
  const b = await canvasBox(page);
  await clickAt(page, b, 123, 77);
  await page.waitForTimeout(50);
  await page.reload();
  await expect(page.getByTestId('app')).toBeVisible();
  expect((await project(page)).trajectories.map((t: { points: unknown }) => t.points)).toEqual([[{ x: 123, y: 77 }]]);
});

test('item 6: an edit made 50 ms before the tab is closed is there in the next tab', async ({ context }) => {
  const page = await context.newPage();
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await waitSaved(page);
  const b = await canvasBox(page);
  await clickAt(page, b, 321, 123);
  await page.waitForTimeout(50);
  await page.close({ runBeforeUnload: true });
  const next = await context.newPage();
  await openApp(next);
  expect((await project(next)).trajectories.map((t: { points: unknown }) => t.points)).toEqual([[{ x: 321, y: 123 }]]);
});

test('item 6: an edit made just before the tab is hidden is written at once', async ({ page }) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await waitSaved(page);
  await page.getByTestId('flow-unit').fill('40');
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  // No waiting for the autosave delay: the write has already started.
  await expect(page.getByTestId('save-status')).toHaveAttribute('data-status', /saving|saved/, { timeout: 100 });
});

test('item 7: the brush summary describes the painted area; erasing everything says so', async ({ page }, testInfo) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  const b = await canvasBox(page);
  const summary = page.getByTestId('brush-summary');
  await expect(summary).toHaveText('Nothing painted: everything may move.');
  await page.getByTestId('tool-brush').click();
  await page.getByTestId('brush-size').fill('20');
  for (const y of [60, 160, 260])
    await dragThrough(page, b, [
      [100, y],
      [300, y],
    ]);
  // Three capsules 200 px long, radius 20: about 3 * (200 * 40 + pi * 400) / (512 * 320) = 17 %.
  const painted = Number(await summary.getAttribute('data-painted'));
  expect(painted).toBeGreaterThan(0.15);
  expect(painted).toBeLessThan(0.19);
  await expect(summary).toContainText(/^1[5-9] % of the picture painted/);
  await page.getByTestId('tool-erase').click();
  await page.getByTestId('brush-size').fill('100');
  for (const y of [40, 160, 280])
    await dragThrough(page, b, [
      [20, y],
      [490, y],
    ]);
  await expect(summary).toHaveText('Nothing painted (all paint erased): everything may move.');
  await page.screenshot({ path: testInfo.outputPath('erased.png') });
});

/** A 1 x 1, two-frame GIF89a written by hand from the GIF spec (independent of the app's reader). */
function twoFrameGif(): Buffer {
  const frame = [
    0x21,
    0xf9,
    0x04,
    0x00,
    0x0a,
    0x00,
    0x00,
    0x00, // graphic control: delay 10
    0x2c,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00, // image descriptor 1x1, no local table
    0x02,
    0x02,
    0x44,
    0x01,
    0x00, // LZW min size 2; one 2-byte sub-block; terminator
  ];
  return Buffer.from([
    ...Buffer.from('GIF89a'),
    0x01,
    0x00,
    0x01,
    0x00,
    0x80,
    0x00,
    0x00, // 1x1, global table of 2
    0xff,
    0x00,
    0x00,
    0x00,
    0x00,
    0xff,
    ...frame,
    ...frame,
    0x3b,
  ]);
}

test('item 7: an animated GIF says that only its first frame is used', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('image-input').setInputFiles({ name: 'wave.gif', mimeType: 'image/gif', buffer: twoFrameGif() });
  await expect(page.getByTestId('info-banner')).toContainText('only its first frame is used');
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
});
