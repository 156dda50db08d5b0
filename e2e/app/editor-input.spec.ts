/**
 * Ways in and around the editor: drop, paste, bundled samples, canvas presets and the crop box
 * (checked against a Node-side crop of the decoded file), and the editor without WebGPU.
 */
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { mediaPath } from '../fixtures';
import { canvasBox, clickAt, dragThrough, loadImage, openApp, project } from './editor-helpers';

/** Minimal PNG decoder (8-bit RGB/RGBA, not interlaced) for expected pixels. */
function decodePng(buf: Buffer): { width: number; height: number; rgb: Uint8Array } {
  let o = 8;
  let width = 0;
  let height = 0;
  let channels = 3;
  const idat: Buffer[] = [];
  while (o < buf.length) {
    const len = buf.readUInt32BE(o);
    const type = buf.toString('ascii', o + 4, o + 8);
    const data = buf.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0 || (data[9] !== 2 && data[9] !== 6)) throw new Error('test decoder: unsupported PNG');
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      out[y * stride + x] = (v + pred) & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = out[i * channels + k];
  return { width, height, rgb };
}

/** Bilinear sample of the crop box (x, y, w, h) of an image at an output size (pixel centres). */
function cropResize(
  img: { width: number; height: number; rgb: Uint8Array },
  crop: { x: number; y: number; width: number; height: number },
  W: number,
  H: number,
) {
  const out = new Float64Array(W * H * 3);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const sx = Math.min(img.width - 1, Math.max(0, crop.x + ((i + 0.5) * crop.width) / W - 0.5));
      const sy = Math.min(img.height - 1, Math.max(0, crop.y + ((j + 0.5) * crop.height) / H - 0.5));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(img.width - 1, x0 + 1);
      const y1 = Math.min(img.height - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let k = 0; k < 3; k++) {
        const p = (x: number, y: number) => img.rgb[(y * img.width + x) * 3 + k];
        out[(j * W + i) * 3 + k] = (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
      }
    }
  }
  return out;
}

async function canvasImage(page: Page): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const r = await page.evaluate(async () => {
    const d = await window.__motionI2V!.canvasImage();
    let s = '';
    for (let i = 0; i < d.data.length; i += 0x8000) s += String.fromCharCode(...d.data.subarray(i, i + 0x8000));
    return { width: d.width, height: d.height, b64: btoa(s) };
  });
  return { width: r.width, height: r.height, rgba: new Uint8Array(Buffer.from(r.b64, 'base64')) };
}

function meanAbsDiff(got: { width: number; height: number; rgba: Uint8Array }, want: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < got.width * got.height; i++) for (let k = 0; k < 3; k++) sum += Math.abs(got.rgba[i * 4 + k] - want[i * 3 + k]);
  return sum / (got.width * got.height * 3);
}

async function dispatchFile(page: Page, kind: 'drop' | 'paste', bytes: Buffer, name: string, type: string): Promise<void> {
  await page.evaluate(
    ({ kind, b64, name, type }) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], name, { type }));
      const target = document.querySelector('[data-testid="app"]')!;
      if (kind === 'drop') {
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      } else {
        document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }
    },
    { kind, b64: bytes.toString('base64'), name, type },
  );
}

test('drop and paste load a picture; the canvas image is the cover crop of the file', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  const one = readFileSync(mediaPath('softsplat/one.png'));
  await dispatchFile(page, 'drop', one, 'dropped.png', 'image/png');
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  let p = await project(page);
  expect(p.image).toMatchObject({ name: 'dropped.png', width: 320, height: 320 });
  const img = await canvasImage(page);
  expect([img.width, img.height]).toEqual([512, 320]);
  const want = cropResize(decodePng(one), p.crop, 512, 320);
  expect(meanAbsDiff(img, want)).toBeLessThan(4);
  // A wrong crop would be far off (the check can fail): compare with the top band instead.
  expect(meanAbsDiff(img, cropResize(decodePng(one), { x: 0, y: 0, width: 320, height: 200 }, 512, 320))).toBeGreaterThan(10);

  const sintel = readFileSync(mediaPath('sintel-raft/frame_0016.png'));
  await dispatchFile(page, 'paste', sintel, 'pasted.png', 'image/png');
  await expect.poll(async () => (await project(page)).image?.name).toBe('pasted.png');
  p = await project(page);
  expect(p.image).toMatchObject({ width: 1024, height: 436 });
  expect(p.crop.y).toBe(0);
  expect(p.crop.height).toBe(436);
  expect(p.crop.width).toBeCloseTo(436 * 1.6, 9);
  expect(p.crop.x).toBeCloseTo((1024 - 436 * 1.6) / 2, 9);
  const img2 = await canvasImage(page);
  expect(meanAbsDiff(img2, cropResize(decodePng(sintel), p.crop, 512, 320))).toBeLessThan(6);
});

test('samples, canvas presets and moving the crop box (undoable)', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('sample-balloon').click();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect((await project(page)).image).toMatchObject({ name: 'Balloon', width: 512, height: 320 });

  await page.getByTestId('open-image').isVisible();
  await page.getByTestId('image-input').setInputFiles(mediaPath('sintel-raft/frame_0016.png'));
  await expect.poll(async () => (await project(page)).image?.width).toBe(1024);
  await page.getByTestId('canvas-preset').selectOption('portrait');
  let p = await project(page);
  expect(p.canvas).toEqual({ width: 320, height: 512 });
  // Portrait cover crop of 1024x436: full height, centred.
  expect(p.crop.height).toBe(436);
  expect(p.crop.width).toBeCloseTo(436 * (320 / 512), 9);
  expect(p.crop.x).toBeCloseTo((1024 - p.crop.width) / 2, 9);
  await expect(page.getByTestId('editor-canvas')).toHaveJSProperty('width', 320);

  // Move crop: dragging the picture right by 100 canvas px shows more of the left side.
  await page.getByTestId('tool-crop').click();
  const b = await canvasBox(page);
  const before = p.crop;
  await dragThrough(page, b, [
    [100, 200],
    [200, 200],
  ]);
  p = await project(page);
  const perPx = before.width / 320;
  expect(p.crop.x).toBeCloseTo(before.x - 100 * perPx, 1);
  expect(p.crop.y).toBe(before.y);
  await page.keyboard.press('Control+z');
  expect((await project(page)).crop).toEqual(before);

  // Timing controls change the per-frame dots the overlay draws and the stored timing.
  await page.getByTestId('tool-trajectory').click();
  await page.getByTestId('canvas-preset').selectOption('landscape');
  const b2 = await canvasBox(page);
  await clickAt(page, b2, 50, 50);
  await clickAt(page, b2, 300, 60);
  await page.keyboard.press('Enter');
  // A canvas change keeps the path on the photo: (300, 60) shows the same image point in Portrait
  // and comes back in Landscape; (50, 50) lies left of the portrait crop and waits at the edge.
  type Box = { x: number; y: number; width: number; height: number };
  const onImage = (pt: { x: number; y: number }, crop: Box, canvas: { width: number; height: number }) => ({
    x: crop.x + (pt.x * crop.width) / canvas.width,
    y: crop.y + (pt.y * crop.height) / canvas.height,
  });
  const land = await project(page);
  await page.getByTestId('canvas-preset').selectOption('portrait');
  const port = await project(page);
  const [edge, kept] = port.trajectories[0].points;
  expect(onImage(kept, port.crop, port.canvas).x).toBeCloseTo(onImage(land.trajectories[0].points[1], land.crop, land.canvas).x, 6);
  expect(onImage(kept, port.crop, port.canvas).y).toBeCloseTo(onImage(land.trajectories[0].points[1], land.crop, land.canvas).y, 6);
  expect(edge.x).toBe(0);
  await page.getByTestId('canvas-preset').selectOption('landscape');
  const again = (await project(page)).trajectories[0].points[1];
  expect(again.x).toBeCloseTo(land.trajectories[0].points[1].x, 6);
  expect(again.y).toBeCloseTo(land.trajectories[0].points[1].y, 6);
  await page.getByTestId('timing-mode').selectOption('ease-in-out');
  expect((await project(page)).trajectories[0].timing.mode).toBe('ease-in-out');
  // Paint away from the path's start: the panel warns that it cannot move; clearing the brush lifts it.
  await expect(page.getByTestId('starts-static')).toHaveCount(0);
  await page.getByTestId('tool-brush').click();
  await dragThrough(page, b2, [
    [400, 250],
    [450, 260],
  ]);
  await expect(page.getByTestId('starts-static')).toHaveCount(1);
  await page.getByTestId('clear-brush').click();
  await expect(page.getByTestId('starts-static')).toHaveCount(0);
  await page.getByTestId('delete-trajectory').click();
  expect((await project(page)).trajectories).toHaveLength(0);
});

test('without WebGPU the editor still works and a banner says what is needed', async ({ page }) => {
  // No WebGPU in the page nor in the engine worker, which owns the GPU and answers the banner.
  const noGpu = "Object.defineProperty(Object.getPrototypeOf(navigator), 'gpu', { get: () => undefined, configurable: true });";
  await page.addInitScript(noGpu);
  await page.route('**/assets/worker-*.js', async (route) => {
    const original = await route.fetch();
    await route.fulfill({ response: original, body: `${noGpu}\n${await original.text()}` });
  });
  await openApp(page);
  const banner = page.getByTestId('gpu-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('WebGPU');
  await expect(banner).toContainText('--enable-unsafe-webgpu');
  await loadImage(page, mediaPath('softsplat/one.png'));
  const b = await canvasBox(page);
  await clickAt(page, b, 100, 100);
  await clickAt(page, b, 150, 120);
  await page.keyboard.press('Enter');
  expect((await project(page)).trajectories[0].points).toEqual([
    { x: 100, y: 100 },
    { x: 150, y: 120 },
  ]);
});

test('a GPU device loss shows a notice and keeps the work', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await loadImage(page, mediaPath('softsplat/one.png'));
  const b = await canvasBox(page);
  await clickAt(page, b, 100, 100);
  await clickAt(page, b, 150, 120);
  await page.keyboard.press('Enter');
  const before = await project(page);
  await page.evaluate(() => window.__motionI2V!.simulateGpuLoss());
  await expect(page.getByTestId('gpu-lost')).toContainText('trajectories and brush are kept');
  expect(await project(page)).toEqual(before);
  // A new device is acquired by itself.
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
});

/** An RGB PNG of a linear gradient: R = 255 x / (w - 1), G = 255 y / (h - 1), B = 128. */
function gradientPng(w: number, h: number): Buffer {
  const raw = Buffer.alloc(h * (1 + w * 3));
  for (let y = 0; y < h; y++) {
    const o = y * (1 + w * 3);
    for (let x = 0; x < w; x++) {
      raw[o + 1 + x * 3] = Math.round((255 * x) / (w - 1));
      raw[o + 2 + x * 3] = Math.round((255 * y) / (h - 1));
      raw[o + 3 + x * 3] = 128;
    }
  }
  const table = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    let c = 0xffffffff;
    for (const b of out.subarray(4, 8 + data.length)) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a large photo is downscaled for editing; the canvas image is still its exact cover crop', async ({ page }) => {
  await openApp(page);
  const W = 3000;
  const H = 2000;
  await page.getByTestId('image-input').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: gradientPng(W, H) });
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  const p = await project(page);
  expect(p.image).toMatchObject({ name: 'big.png', width: W, height: H });
  // Cover 512x320: full width, height 3000 * 320 / 512 = 1875, centred.
  expect(p.crop.width).toBe(W);
  expect(p.crop.height).toBeCloseTo(1875, 9);
  expect(p.crop.y).toBeCloseTo(62.5, 9);
  const img = await canvasImage(page);
  // A linear gradient survives any symmetric resampling filter: compare with the analytic values
  // away from the borders.
  let sum = 0;
  let n = 0;
  for (let j = 8; j < 312; j++) {
    for (let i = 8; i < 504; i++) {
      const x = p.crop.x + ((i + 0.5) * p.crop.width) / 512 - 0.5;
      const y = p.crop.y + ((j + 0.5) * p.crop.height) / 320 - 0.5;
      sum += Math.abs(img.rgba[(j * 512 + i) * 4] - (255 * x) / (W - 1)) + Math.abs(img.rgba[(j * 512 + i) * 4 + 1] - (255 * y) / (H - 1));
      n += 2;
    }
  }
  expect(sum / n).toBeLessThan(1.5);
});
