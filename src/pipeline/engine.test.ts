/** The one progress mapping and the one flow count. */
import { describe, expect, it } from 'vitest';
import { emptyProject } from '../motion/types';
import { flowCount, frameCount, jobProgress, wholeJobProgress, type EngineProgress } from './engine';

describe('progress', () => {
  it('maps each stage into its own span of the job, in order, reaching 1 only at the end of readback', () => {
    const order = ['prepare', 'motion', 'render', 'readback'] as const;
    let end = 0;
    for (const stage of order) {
      expect(jobProgress(stage, 0)).toBeCloseTo(end, 12);
      end = jobProgress(stage, 1);
      expect(end).toBeGreaterThan(jobProgress(stage, 0));
    }
    expect(jobProgress('render', 1)).toBeLessThan(1);
    expect(end).toBe(1);
    expect(jobProgress('render', 7)).toBe(jobProgress('render', 1));
  });

  it('whole-job reports never go back, and a new stage is told even before it advances', () => {
    const seen: EngineProgress[] = [];
    const report = wholeJobProgress((p) => seen.push(p));
    report({ stage: 'prepare', fraction: 1 });
    report({ stage: 'motion', fraction: 0 });
    report({ stage: 'motion', fraction: 0 });
    report({ stage: 'render', fraction: 0.5 });
    report({ stage: 'motion', fraction: 1 });
    report({ stage: 'readback', fraction: 1 });
    expect(seen.map((p) => p.stage)).toEqual(['prepare', 'motion', 'render', 'readback']);
    expect(seen[1].fraction).toBe(seen[0].fraction);
    expect(seen.at(-1)!.fraction).toBe(1);
  });
});

describe('flowCount', () => {
  it('is frames - 1 with at least one flow, and frameCount adds the reference frame', () => {
    const p = emptyProject();
    for (const [frames, flows] of [
      [16, 15],
      [2, 1],
      [1, 1],
      [0, 1],
      [7.6, 7],
    ] as const) {
      p.settings.frames = frames;
      expect(flowCount(p)).toBe(flows);
      expect(frameCount(p)).toBe(flows + 1);
    }
  });
});
