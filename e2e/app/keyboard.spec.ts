/**
 * Drawing without a mouse: Tab reaches the editor canvas, arrows move its cursor, Space clicks,
 * Space held with arrows drags. The result is checked in the project, against positions worked
 * out here from the key presses (centre start, 1 px per arrow, SHIFT_STEP with Shift).
 */
import { test, expect, type Page } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { loadImage, openApp, project, waitSaved } from './editor-helpers';

const SHIFT_STEP = 16;

async function tabToCanvas(page: Page): Promise<number> {
  for (let presses = 1; presses <= 80; presses++) {
    await page.keyboard.press('Tab');
    const on = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    if (on === 'editor-canvas') return presses;
  }
  throw new Error('Tab never reached the editor canvas');
}

async function press(page: Page, key: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await page.keyboard.press(key);
}

test('keyboard only: a path, a point dragged, a brush stroke, undo, focus kept across Tab', async ({ page }, testInfo) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  const { canvas } = await project(page);
  const cx = Math.floor(canvas.width / 2);
  const cy = Math.floor(canvas.height / 2);

  // Start from the top of the page, as a keyboard user would.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabToCanvas(page);
  await expect(page.getByTestId('keyboard-hint')).toBeVisible();

  // A two-point path: tap Space, move right 3 big steps and up 5 px, tap, Enter finishes.
  await page.keyboard.press('Space');
  await press(page, 'Shift+ArrowRight', 3);
  await press(page, 'ArrowUp', 5);
  await page.keyboard.press('Space');
  await page.keyboard.press('Enter');
  await page.screenshot({ path: testInfo.outputPath('keyboard-path.png') });
  let p = await project(page);
  expect(p.trajectories).toHaveLength(1);
  expect(p.trajectories[0].points).toEqual([
    { x: cx, y: cy },
    { x: cx + 3 * SHIFT_STEP, y: cy - 5 },
  ]);

  // Drag the second point (the cursor is on it) 2 big steps down with Space held.
  await page.keyboard.down('Space');
  await press(page, 'Shift+ArrowDown', 2);
  await page.keyboard.up('Space');
  p = await project(page);
  expect(p.trajectories).toHaveLength(1);
  expect(p.trajectories[0].points[1]).toEqual({ x: cx + 3 * SHIFT_STEP, y: cy - 5 + 2 * SHIFT_STEP });

  // Brush (key b), one stroke painted with Space held: it starts where the cursor is.
  await page.keyboard.press('b');
  await page.keyboard.down('Space');
  await press(page, 'Shift+ArrowLeft', 4);
  await page.keyboard.up('Space');
  p = await project(page);
  expect(p.brush).toHaveLength(1);
  expect(p.brush[0].points[0]).toEqual({ x: cx + 3 * SHIFT_STEP, y: cy - 5 + 2 * SHIFT_STEP });
  expect(p.brush[0].points.at(-1)).toEqual({ x: cx - SHIFT_STEP, y: cy - 5 + 2 * SHIFT_STEP });

  // Undo from the keyboard takes the stroke back; the canvas keeps the keyboard.
  await page.keyboard.press('Control+z');
  expect((await project(page)).brush).toHaveLength(0);
  expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('editor-canvas');

  // Tab away and back: the cursor is where it was (a new click lands there).
  await page.keyboard.press('t');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Space');
  await page.keyboard.press('Enter');
  p = await project(page);
  expect(p.trajectories).toHaveLength(2);
  expect(p.trajectories[1].points).toEqual([{ x: cx - SHIFT_STEP, y: cy - 5 + 2 * SHIFT_STEP }]);

  // A mouse click on the canvas focuses it without the keyboard cursor.
  await page.keyboard.press('Tab');
  const box = (await page.getByTestId('editor-canvas').boundingBox())!;
  await page.mouse.click(box.x + 20, box.y + 20);
  await expect(page.getByTestId('keyboard-hint')).toHaveCount(0);
  await waitSaved(page);
});
