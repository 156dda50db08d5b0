/** Shared helpers for the editor browser tests (real mouse events on the editor canvas). */
import { expect, type Page } from '@playwright/test';

export interface CanvasBox {
  x: number;
  y: number;
  width: number;
  height: number;
  canvasW: number;
  canvasH: number;
}

export async function canvasBox(page: Page): Promise<CanvasBox> {
  const el = page.getByTestId('editor-canvas');
  const box = await el.boundingBox();
  if (!box) throw new Error('editor canvas not visible');
  const [canvasW, canvasH] = await el.evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
  return { ...box, canvasW, canvasH };
}

/** Screen position of canvas pixel (x, y). */
export function toScreen(b: CanvasBox, x: number, y: number): [number, number] {
  return [b.x + (x * b.width) / b.canvasW, b.y + (y * b.height) / b.canvasH];
}

export async function clickAt(page: Page, b: CanvasBox, x: number, y: number): Promise<void> {
  const [sx, sy] = toScreen(b, x, y);
  await page.mouse.click(sx, sy);
}

/** Press at the first point, move through the others in small steps, release at the last. */
export async function dragThrough(page: Page, b: CanvasBox, pts: [number, number][], steps = 6): Promise<void> {
  const [sx, sy] = toScreen(b, ...pts[0]);
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  for (const p of pts.slice(1)) {
    const [x, y] = toScreen(b, ...p);
    await page.mouse.move(x, y, { steps });
  }
  await page.mouse.up();
}

export async function project(page: Page): Promise<any> {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.__motionI2V!.project())));
}

/** Opens the app on a fresh profile and waits for hydration. */
export async function openApp(page: Page): Promise<void> {
  page.on('pageerror', (e) => console.log(`[page exception] ${e.message}`));
  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
}

/** Loads an image through the file input and waits until it is drawn. */
export async function loadImage(page: Page, path: string): Promise<void> {
  await page.getByTestId('image-input').setInputFiles(path);
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
}

export async function waitSaved(page: Page): Promise<void> {
  await expect(page.getByTestId('save-status')).toHaveAttribute('data-status', 'saved');
}
