import { describe, expect, it } from 'vitest';
import { flowRepairNotice } from './flowRepair';

describe('flowRepairNotice', () => {
  it('says nothing when nothing was repaired', () => {
    expect(flowRepairNotice(null)).toBeNull();
    expect(flowRepairNotice({ nonFinite: 0, clamped: 0, pixels: 100, limit: 8 })).toBeNull();
  });

  it('says in shares of the picture what was repaired, without numbers of the kernel', () => {
    // 15 flows of 512x320: 2,457,600 points; 512 NaN points = 0.02 %, 49,152 clamped = 2 %
    const n = flowRepairNotice({ nonFinite: 512, clamped: 49_152, pixels: 15 * 512 * 320, limit: 2048 })!;
    expect(n).toBe(
      'The motion was partly broken and was repaired before rendering: under 0.1% of its points had no valid value (they stay still), ' +
        "and 2.0% moved absurdly far (limited to 4 times the picture's size). If the video looks wrong, predict the motion again " +
        'with a new seed, or redraw the trajectories.',
    );
    expect(flowRepairNotice({ nonFinite: 30, clamped: 0, pixels: 100, limit: 8 })).toMatch(
      /: 30% of its points had no valid value \(they stay still\)\. If/,
    );
    expect(flowRepairNotice({ nonFinite: 0, clamped: 1, pixels: 8, limit: 8 })).toMatch(/: 13% moved absurdly far/);
    expect(n).not.toMatch(/NaN|Inf|2048|kernel|shape/i);
  });
});
