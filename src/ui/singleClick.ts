/**
 * A button handler that ignores the extra clicks of a double or triple click (`event.detail` > 1).
 * Start buttons turn into Cancel in the same place, so without it a double-click on Generate or
 * Export cancelled the job it had just started, and a double-click on Save downloaded twice.
 * Keyboard activation (detail 0) and single clicks pass.
 */
import type { MouseEvent } from 'react';

export function singleClick<E extends Element>(handler: (e: MouseEvent<E>) => void): (e: MouseEvent<E>) => void {
  return (e) => {
    if (e.detail > 1) return;
    handler(e);
  };
}
