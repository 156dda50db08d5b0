/**
 * What the page says when the flow sanitizer (src/gpu/kernels/flowSanitize.ts) had to repair a
 * motion: in words and shares of the picture, never counts of tensor elements or kernel names.
 */
import { FLOW_LIMIT_SIDES, type FlowRepair } from '../gpu/kernels/flowSanitize';

export type { FlowRepair } from '../gpu/kernels/flowSanitize';

/** "0.4%", "under 0.1%", "12%" of the motion's points. */
function share(count: number, total: number): string {
  const pct = (100 * count) / Math.max(1, total);
  if (pct < 0.1) return 'under 0.1%';
  return `${pct < 10 ? pct.toFixed(1) : Math.round(pct)}%`;
}

/** The notice for a repaired motion, or null when nothing was repaired. */
export function flowRepairNotice(repair: FlowRepair | null | undefined): string | null {
  if (!repair || (repair.nonFinite === 0 && repair.clamped === 0)) return null;
  const parts: string[] = [];
  if (repair.nonFinite > 0) parts.push(`${share(repair.nonFinite, repair.pixels)} of its points had no valid value (they stay still)`);
  if (repair.clamped > 0)
    parts.push(`${share(repair.clamped, repair.pixels)} moved absurdly far (limited to ${FLOW_LIMIT_SIDES} times the picture's size)`);
  return (
    `The motion was partly broken and was repaired before rendering: ${parts.join(', and ')}. ` +
    'If the video looks wrong, predict the motion again with a new seed, or redraw the trajectories.'
  );
}
