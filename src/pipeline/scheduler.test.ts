/**
 * The DDIM tables and step equal tools/export/scheduler.py, the Python reference the goldens
 * were made with: the reference is run here (Debian's /usr/bin/python3 with numpy) and prints its
 * numbers as JSON, for the reference configuration and for zero-terminal SNR with trailing steps.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DdimScheduler, REFERENCE_DDIM, schedulerFromManifest } from './scheduler';
import type { SchedulerSpec } from '../models/manifest';

const ROOT = resolve(import.meta.dirname, '../..');
const STEPS = [1, 2, 3, 7, 10, 25, 50, 333, 999];

interface Tables {
  betas: number[];
  alphas_cumprod: number[];
  final_alpha_cumprod: number;
  runs: Record<string, { timesteps: number[]; prev: number[]; step: number[][] }>;
}

function reference(zeroTerminalSnr: boolean): Tables {
  const args = ['-m', 'tools.export.scheduler', '--steps', STEPS.join(',')];
  if (zeroTerminalSnr) args.push('--zero-terminal-snr');
  return JSON.parse(execFileSync('/usr/bin/python3', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 })) as Tables;
}

/** Largest |a - b| / max(1, |b|) over two arrays. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

const probeX = Array.from({ length: 7 }, (_, i) => -2 + (4 * i) / 6);
const probeEps = Array.from({ length: 7 }, (_, i) => 1 - (2 * i) / 6);

describe.each([
  ['reference (linear betas, leading spacing)', false],
  ['zero-terminal SNR, trailing spacing', true],
])('DDIM %s equals tools/export/scheduler.py', (_name, ztsnr) => {
  const want = reference(ztsnr);
  const config = { ...REFERENCE_DDIM, zero_terminal_snr: ztsnr, timestep_spacing: ztsnr ? ('trailing' as const) : ('leading' as const) };

  it('betas and alpha_bar', () => {
    const s = new DdimScheduler(config);
    // same float64 operations in the same order as numpy: bit-equal
    expect(Array.from(s.betas)).toEqual(want.betas);
    expect(Array.from(s.alphasCumprod)).toEqual(want.alphas_cumprod);
    expect(s.finalAlphaCumprod).toBe(want.final_alpha_cumprod);
    if (ztsnr) expect(Math.min(...s.alphasCumprod)).toBe(4.8973451890853435e-8);
  });

  it.each(STEPS)('timesteps, predecessors and one step with %i steps', (n) => {
    const s = new DdimScheduler(config);
    const run = want.runs[String(n)];
    expect(s.setTimesteps(n)).toEqual(run.timesteps);
    expect(run.timesteps.map((t) => s.prevTimestep(t))).toEqual(run.prev);
    run.timesteps.forEach((t, k) => {
      const got = s.step(probeEps, t, probeX).prevSample;
      // x0 divides by sqrt(alpha_bar) (2.2e-4 at the clamped terminal step): relative bound
      expect(worst(got, run.step[k]), `t=${t}`).toBeLessThan(1e-12);
    });
  });
});

describe('DDIM object', () => {
  it('step before setTimesteps throws', () => {
    const s = new DdimScheduler();
    expect(() => s.step([0], 1, [0])).toThrow(/setTimesteps before step/);
    expect(() => s.stepCoefficients(1)).toThrow(/setTimesteps/);
  });
  it('the tiny pack goldens used timesteps [501, 1] for 2 steps', () => {
    expect(new DdimScheduler().setTimesteps(2)).toEqual([501, 1]);
  });
  it('refuses what it does not implement', () => {
    expect(() => new DdimScheduler({ ...REFERENCE_DDIM, eta: 0.5 })).toThrow(/eta = 0/);
    expect(() => new DdimScheduler({ ...REFERENCE_DDIM, prediction_type: 'v_prediction' })).toThrow(/epsilon/);
    expect(() => new DdimScheduler().setTimesteps(0)).toThrow(RangeError);
    expect(() => new DdimScheduler().setTimesteps(1000)).toThrow(/past the 1000 training steps/);
  });
  it('schedulerFromManifest switches to trailing spacing with zero-terminal SNR', () => {
    const spec = { ...REFERENCE_DDIM, name: 'DDIM', num_inference_steps: 25, guidance_scale: 7 } as SchedulerSpec;
    expect(schedulerFromManifest(spec, { zeroTerminalSnr: true }).setTimesteps(2)).toEqual([999, 499]);
    expect(schedulerFromManifest(spec).setTimesteps(2)).toEqual([501, 1]);
  });
});
