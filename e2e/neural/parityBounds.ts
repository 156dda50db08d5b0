/**
 * The bounds of the neural parity specs (neural-stage1, neural-stage2) and their one check: max
 * |got - golden| relative to the golden's largest magnitude, fp32.
 */
import { expect } from '@playwright/test';
import type { Check } from './stage2Harness';
import { BOUND, FLOW_BOUND } from './bounds';

export { BOUND, FLOW_BOUND } from './bounds';

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
