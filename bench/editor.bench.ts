/**
 * The editor at the documented limits (issue 9, item 4): a project file with 256 trajectories x
 * 10,000 points (45 MB) and one with 4,096 brush strokes x 1,000 points (72 MB), each with a
 * real photo. Measures, in the app page as a user drives it (file input, reload, mouse):
 * - open: choosing the file until the editor says it opened (parse, checks, simplification);
 * - restore: reload until the photo is drawn again (IndexedDB read, checks, first draw);
 * - tool click: a click on the canvas until the next frame is drawn;
 * - point drag: one mouse move of a dragged trajectory point until the next frame.
 * The "before" column is what issue 9 reported for the previous version (not re-measured).
 * Writes bench/results/editor.json. The app page is the dev server's unless BENCH_APP_URL names
 * another (the committed numbers: the production build, `vite preview`).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { test, expect } from '@playwright/test';
import { limitFile } from '../e2e/app/limits.helpers';

const BEFORE: Record<string, Record<string, number | null>> = {
  trajectories: { open: 84_000, restore: 205_000, click: 97_000, drag: null },
  brush: { open: 73_000, restore: null, click: null, drag: null },
};

test('editor at the limits: open, restore, tool click, point drag', async ({ browser }, testInfo) => {
  test.setTimeout(900_000);
  const url = process.env.BENCH_APP_URL ?? '/';
  const rows = [];
  let device = '';
  for (const kind of ['trajectories', 'brush'] as const) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(url);
    await expect(p.getByTestId('app')).toBeVisible();
    device =
      device ||
      (await p.evaluate(async () => {
        const a = await navigator.gpu?.requestAdapter();
        return a ? `${a.info.vendor} ${a.info.architecture}`.trim() : 'no WebGPU';
      }));
    const path = testInfo.outputPath(`${kind}.json`);
    writeFileSync(path, limitFile(kind));
    let t = Date.now();
    await p.getByTestId('project-input').setInputFiles(path);
    await expect(p.getByTestId('info-banner')).toContainText('Opened', { timeout: 300_000 });
    await expect(p.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
    const open = Date.now() - t;
    await expect(p.getByTestId('save-status')).toHaveAttribute('data-status', 'saved', { timeout: 60_000 });
    t = Date.now();
    await p.reload();
    await expect(p.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/, { timeout: 300_000 });
    const restore = Date.now() - t;
    const el = p.getByTestId('editor-canvas');
    const box = (await el.boundingBox())!;
    const at = (x: number, y: number) => [box.x + (x * box.width) / 512, box.y + (y * box.height) / 320] as const;
    const clicks: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = Date.now();
      await p.mouse.click(...at(40 + i * 30, 300));
      await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
      clicks.push(Date.now() - t);
    }
    // Drag the first trajectory's first point (8 moves).
    const first = await p.evaluate(() => window.__motionI2V!.project().trajectories[0].points[0]);
    await p.getByTestId('tool-trajectory').click();
    await p.mouse.move(...at(first.x, first.y));
    await p.mouse.down();
    const moves: number[] = [];
    for (let i = 1; i <= 8; i++) {
      t = Date.now();
      await p.mouse.move(...at(first.x + i * 3, first.y + i * 2));
      await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
      moves.push(Date.now() - t);
    }
    await p.mouse.up();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const label =
      kind === 'trajectories' ? '256 trajectories x 10,000 points (45 MB file)' : '4,096 brush strokes x 1,000 points (72 MB file)';
    const before = BEFORE[kind];
    const row = (what: string, ms: number, target: string, b: number | null) => ({
      case: `${label}: ${what}`,
      ours_ms: ms,
      baseline: b == null ? '' : 'previous version (issue 9 report)',
      baseline_ms: b,
      ratio: b == null ? null : b / ms,
      target,
      note: `load average ${loadavg()
        .map((v) => v.toFixed(1))
        .join(' ')}; app: ${url}`,
    });
    rows.push(
      row('open', open, 'seconds', before.open),
      row('restore (reload)', restore, 'seconds', before.restore),
      row('tool click (median of 3)', median(clicks), '< 100 ms', before.click),
      row('point drag, one move (median of 8)', median(moves), '< 100 ms', before.drag),
    );
    console.log(kind, { open, restore, clicks, moves });
    await ctx.close();
  }
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, 'results', 'editor.json'),
    JSON.stringify({ name: 'editor', device, date: new Date().toISOString(), rows }, null, 2),
  );
});
