"""Golden for conditions.test.ts: the reference demo's stage-1 conditions for one small scene.

Restates, in NumPy float32, what G-U-N/Motion-I2V scripts/app.py (commit bc787e1) does in
Drag.run and Drag.forward_sample to turn clicked drags, a flow unit and a brush into the
ControlNet's inputs (torch float32 element-wise ops are IEEE float32 like NumPy's):
  * one-click drags become [(x, y), (x + 1, y + 1)];
  * interpolate_trajectory: scipy PchipInterpolator over t = linspace(0, 1, n), sampled at
    linspace(0, 1, 16);
  * for frame i = 1..15 the displacement P[i] - P[0] fills rows
    max(int(y0) - u, 0) : int(y0) + u and columns max(int(x0) - u, 0) : int(x0 + u) of a
    float32 array (Python slices, so the stops are exclusive and clip at the border);
    the mask is 1 there; later drags overwrite earlier ones;
  * dx /= W, dy /= H; drag *= (1 - brush_mask); drag = (drag + 1) / 2; mask = 1 where
    brush_mask > 0; then (drag - 0.5) * mask + 0.5;
  * ControlNet mask: F.interpolate(mask, scale_factor=1/8) (nearest) = mask[::8, ::8].
Output (run from the repo root: python3 src/motion/testdata/make_demo_conditions_golden.py):
demo-conditions.golden.json with run-length encoded planes (runs of equal values that are not
0.5 in `normalized`, not 0 in `mask`) so the file stays small.
"""
import json
import os

import numpy as np
from scipy.interpolate import PchipInterpolator

W, H, FRAMES, UNIT = 64, 40, 16, 3
# Drags as clicked (integer pixels). The third overlaps the first; the anchor sits in the
# static area; the last one is clipped by the top-left border.
TRACKS = [
    [[20, 12], [30, 20], [26, 33]],
    [[50, 30]],
    [[22, 14], [10, 10]],
    [[40, 8], [44, 9], [47, 15], [60, 16]],
    [[1, 2], [5, 30]],
]
# Brush: the painted (movable) region is the rectangle cols [0, 44) x rows [0, 40); the
# rest (cols 44..63) is static. brush_mask = 1 where static.
PAINT_X0, PAINT_X1 = 0, 44

brush_mask = np.ones((H, W), np.float32)
brush_mask[:, PAINT_X0:PAINT_X1] = 0
if (brush_mask == 1).all():
    brush_mask = np.zeros_like(brush_mask)
brush_mask = brush_mask[None, :, :, None]

drag = np.zeros((FRAMES - 1, H, W, 2), np.float32)
mask = np.zeros((FRAMES - 1, H, W, 1), np.float32)
for track in TRACKS:
    pts = [tuple(p) for p in track]
    if len(pts) == 1:
        pts = [pts[0], (pts[0][0] + 1, pts[0][1] + 1)]
    t = np.linspace(0, 1, len(pts))
    new_t = np.linspace(0, 1, FRAMES)
    xs = PchipInterpolator(t, [p[0] for p in pts])(new_t)
    ys = PchipInterpolator(t, [p[1] for p in pts])(new_t)
    x0, y0 = xs[0], ys[0]
    rows = slice(max(int(y0) - UNIT, 0), int(y0) + UNIT)
    cols = slice(max(int(x0) - UNIT, 0), int(x0 + UNIT))
    for i in range(FRAMES - 1):
        drag[i, rows, cols, 0] = xs[i + 1] - x0
        drag[i, rows, cols, 1] = ys[i + 1] - y0
        mask[i, rows, cols] = 1

drag[..., 0] /= W
drag[..., 1] /= H
drag = drag * (1 - brush_mask)
mask = np.where(np.broadcast_to(brush_mask, mask.shape) > 0, np.float32(1), mask).astype(np.float32)
drag = (drag + 1) / 2
sparse = (drag - np.float32(0.5)) * mask + np.float32(0.5)
assert sparse.dtype == np.float32
mask8 = mask[0, ::8, ::8, 0]


def runs(values, skip):
    flat = values.reshape(-1)
    out = []
    i = 0
    while i < flat.size:
        if flat[i] == skip:
            i += 1
            continue
        j = i
        while j + 1 < flat.size and flat[j + 1] == flat[i]:
            j += 1
        out.append([i, j - i + 1, float(flat[i])])
        i = j + 1
    return out


golden = {
    "width": W,
    "height": H,
    "frames": FRAMES,
    "flowUnit": UNIT,
    "tracks": TRACKS,
    "paintColumns": [PAINT_X0, PAINT_X1],
    # normalized[f][c] for f = 1..15 (frame 0 is all 0.5), runs of values != 0.5
    "normalized": [[runs(sparse[i, :, :, c], 0.5) for c in range(2)] for i in range(FRAMES - 1)],
    "mask": runs(mask[0, :, :, 0], 0.0),
    "mask8": mask8.reshape(-1).tolist(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo-conditions.golden.json")
with open(path, "w") as f:
    json.dump(golden, f, separators=(",", ":"))
print(path, os.path.getsize(path), "bytes")
