import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { emptyProject } from '../../motion/types';
import type { Manifest } from '../../models/manifest';
import { DEFAULT_NEGATIVE_PROMPT } from '../text';
import { defaultNeuralSettings, scaleProject } from './engine';
import { gaussian, mulberry32, stage1Noise } from './noise';

const tiny = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../public/models/tiny/manifest.json'), 'utf8')) as Manifest;

describe('neural engine helpers', () => {
  it('scaleProject maps trajectories, brush and Flow Unit onto the pack canvas', () => {
    const p = emptyProject(); // 512 x 320
    p.trajectories = [
      {
        id: 'a',
        color: '#f00',
        points: [
          { x: 256, y: 160 },
          { x: 512, y: 0 },
        ],
        timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
      },
    ];
    p.brush = [{ mode: 'paint', radius: 16, points: [{ x: 64, y: 40 }] }];
    const s = scaleProject(p, 64, 48);
    expect(s.canvas).toEqual({ width: 64, height: 48 });
    expect(s.trajectories[0].points).toEqual([
      { x: 32, y: 24 },
      { x: 64, y: 0 },
    ]);
    expect(s.brush[0].points).toEqual([{ x: 8, y: 6 }]);
    expect(s.brush[0].radius).toBeCloseTo(16 * Math.sqrt((64 / 512) * (48 / 320)));
    expect(s.settings.flowUnit).toBe(Math.round(64 * Math.sqrt((64 / 512) * (48 / 320))));
    expect(p.canvas.width).toBe(512); // the project is untouched
    expect(scaleProject(p, 512, 320)).toBe(p);
  });

  it("defaults come from the manifest and the project; an empty negative prompt means the authors' one", () => {
    const p = emptyProject();
    p.settings = { ...p.settings, prompt: 'waves', seed: 9, steps: 12, guidance: 5, negativePrompt: '' };
    const s = defaultNeuralSettings(tiny, p);
    expect(s).toMatchObject({
      prompt: 'waves',
      seed: 9,
      steps: 12,
      guidance: 5,
      negativePrompt: DEFAULT_NEGATIVE_PROMPT,
      motionStride: 8,
      controlScale: 1,
      zeroTerminalSnr: false,
    });
    expect(defaultNeuralSettings(tiny).steps).toBe(tiny.scheduler.num_inference_steps);
  });

  it('seeded noise is deterministic and standard normal', () => {
    const a = stage1Noise(5, { frames: 7, height: 6, width: 8 });
    const b = stage1Noise(5, { frames: 7, height: 6, width: 8 });
    const c = stage1Noise(6, { frames: 7, height: 6, width: 8 });
    expect(a.noise).toEqual(b.noise);
    expect(a.noise).not.toEqual(c.noise);
    expect(a.noise).toHaveLength(4 * 7 * 48);
    expect(a.imageEps).toHaveLength(4 * 48);
    expect(a.controlEps).toHaveLength(7 * 4 * 48);
    const g = gaussian(mulberry32(1), 200_000);
    const mean = g.reduce((s, v) => s + v, 0) / g.length;
    const variance = g.reduce((s, v) => s + (v - mean) ** 2, 0) / g.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
});
