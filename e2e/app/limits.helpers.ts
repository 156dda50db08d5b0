/**
 * Project files at the documented limits (issue 9, item 4), built here in Node: 256
 * trajectories x 10,000 points, and 4,096 brush strokes x 1,000 points, with a real photo.
 */
import { readFileSync } from 'node:fs';
import { mediaPath } from '../fixtures';

function wave(n: number, k: number, w: number, h: number): { x: number; y: number }[] {
  const out = new Array(n);
  for (let i = 0; i < n; i++)
    out[i] = { x: Math.round(((i / n) * (w - 20) + 10) * 100) / 100, y: Math.round((h / 2 + (h / 3) * Math.sin(i / 40 + k)) * 100) / 100 };
  return out;
}

export function limitFile(kind: 'trajectories' | 'brush'): Buffer {
  const png = readFileSync(mediaPath('softsplat/one.png'));
  const project = {
    version: 1,
    image: { id: 'x', name: 'one.png', width: 320, height: 320 },
    canvas: { width: 512, height: 320 },
    crop: { x: 0, y: 60, width: 320, height: 200 },
    trajectories:
      kind === 'trajectories'
        ? Array.from({ length: 256 }, (_, k) => ({
            id: `t${k}`,
            points: wave(10000, k, 512, 320),
            color: '#ff3b30',
            timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
          }))
        : [
            {
              id: 't0',
              points: [
                { x: 100, y: 100 },
                { x: 200, y: 120 },
              ],
              color: '#ff3b30',
              timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
            },
          ],
    brush:
      kind === 'brush'
        ? Array.from({ length: 4096 }, (_, k) => ({ mode: k % 7 === 6 ? 'erase' : 'paint', radius: 6, points: wave(1000, k, 512, 320) }))
        : [],
    settings: { flowUnit: 64, frames: 16, fps: 8, prompt: '', negativePrompt: '', seed: 42, steps: 25, guidance: 7, loop: false },
  };
  const file = {
    format: 'motion-i2v-web/project',
    version: 1,
    savedAt: '2026-01-01T00:00:00Z',
    project,
    image: `data:image/png;base64,${png.toString('base64')}`,
  };
  return Buffer.from(JSON.stringify(file));
}
