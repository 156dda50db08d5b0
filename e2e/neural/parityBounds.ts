/**
 * The bounds of the neural parity specs (neural-stage1, neural-stage2) and their one check: max
 * |got - golden| relative to the golden's largest magnitude, fp32.
 */
import { expect } from '@playwright/test';
import type { Check } from './stage2Harness';

export const BOUND = 1e-3;
// The flow-VAE decoder multiplies the latents' fp32 rounding by about ten on these random weights
// (flows decoded from the golden latents: rel 3e-6; the latents after the whole stage 1: 8e-5;
// the flows decoded from them: 7e-4 to 1.3e-3): the diffusion output is held to BOUND, the pixel
// flows to FLOW_BOUND. A lost step (negative controls) misses by far more than either.
export const FLOW_BOUND = 3e-3;

export function report(checks: Check[]): void {
  for (const c of checks)
    console.log(
      `  ${c.name.padEnd(20)} maxAbs ${c.maxAbs.toExponential(2)} scale ${c.scale.toExponential(2)} rel ${c.rel.toExponential(2)}`,
    );
}

export function expectWithin(checks: Check[], bound = BOUND): void {
  report(checks);
  for (const c of checks) {
    expect(c.nonFinite, `${c.name}: non-finite values`).toBe(0);
    expect(c.scale, `${c.name}: golden is all zeros`).toBeGreaterThan(0);
    expect(c.rel, `${c.name}: max abs ${c.maxAbs} vs scale ${c.scale}`).toBeLessThan(
      c.name === 'flows' ? Math.max(bound, FLOW_BOUND) : bound,
    );
  }
}
