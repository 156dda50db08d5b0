/**
 * Motion modes through the classical engine's motion stage on a 64x64 scene, against
 * independent CPU references (e2e/reference/regions.ts): a rigid region's flows are its drags'
 * least-squares similarity (normal equations), a shape-preserving region's are rigid moving
 * least squares (Schaefer et al.'s formula), unpainted pixels are exactly zero, fluid paint is
 * still solved; and with a brush edge (feather) the region snaps to the image's edge.
 */
import { test, expect } from '../fixtures';

test('rigid and shape-preserving regions move by their CPU references; the brush edge snaps to the image', async ({ harness }) => {
  test.setTimeout(240_000);
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { ClassicalEngine, uploadImage } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { readTensor } = (await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor');
    const { emptyProject } = (await import(/* @vite-ignore */ '/src/motion/types.ts' as string)) as typeof import('../../src/motion/types');
    const { defaultTiming } = (await import(
      /* @vite-ignore */ '/src/motion/trajectory.ts' as string
    )) as typeof import('../../src/motion/trajectory');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/regions.ts' as string)) as typeof import('../reference/regions');
    type Pt = [number, number];
    const { device } = await acquireGpu();
    const W = 64;
    const H = 64;
    const F = 2;
    const engine = new ClassicalEngine(device);
    const traj = (id: string, a: Pt, b?: Pt) => ({
      id,
      color: '#f00',
      points: b
        ? [
            { x: a[0], y: a[1] },
            { x: b[0], y: b[1] },
          ]
        : [{ x: a[0], y: a[1] }],
      timing: defaultTiming(F + 1),
    });
    const run = async (rgba: Uint8Array, project: ReturnType<typeof emptyProject>) => {
      const image = uploadImage(device, { width: W, height: H, data: rgba });
      const flows = await engine.motion({ project, image });
      const out = (await readTensor(device, flows.tensor)) as Float32Array;
      flows.tensor.buffer.destroy();
      image.buffer.destroy();
      return out;
    };
    const flowAt = (f: Float32Array, frame: number, x: number, y: number): Pt => [
      f[frame * 2 * W * H + y * W + x],
      f[(frame * 2 + 1) * W * H + y * W + x],
    ];
    const inDisc = (x: number, y: number, cx: number, cy: number, rad: number) => (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= rad * rad;
    // A two-point path at frame i of F (reference timing, PCHIP through two points = linear).
    const at = (a: Pt, b: Pt, i: number): Pt => [a[0] + ((b[0] - a[0]) * i) / F, a[1] + ((b[1] - a[1]) * i) / F];

    // Scene 1: a rigid disc with two drags, a shape disc with two drags and an anchor, a fluid disc with one drag.
    const rgba = new Uint8Array(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      const v = 150 + ((i * 37) % 23);
      rgba.set([v, v - 5, v + 3, 255], 4 * i);
    }
    const rigid = {
      drags: [
        [
          [10, 12],
          [14, 10],
        ],
        [
          [22, 20],
          [24, 26],
        ],
      ] as [Pt, Pt][],
    };
    const shape = {
      drags: [
        [
          [38, 12],
          [41, 9],
        ],
        [
          [50, 22],
          [49, 28],
        ],
      ] as [Pt, Pt][],
      anchor: [44, 18] as Pt,
    };
    const project = emptyProject();
    project.canvas = { width: W, height: H };
    project.settings = { ...project.settings, frames: F + 1 };
    project.brush = [
      { mode: 'paint', radius: 12, points: [{ x: 16, y: 16 }], motion: 'rigid' },
      { mode: 'paint', radius: 14, points: [{ x: 44, y: 18 }], motion: 'shape' },
      { mode: 'paint', radius: 10, points: [{ x: 16, y: 48 }] },
    ];
    project.trajectories = [
      ...rigid.drags.map(([a, b], k) => traj(`r${k}`, a, b)),
      ...shape.drags.map(([a, b], k) => traj(`s${k}`, a, b)),
      traj('anchor', shape.anchor),
      traj('fluid', [16, 48], [20, 48]),
    ];
    const f1 = await run(rgba, project);
    let rigidErr = 0;
    let shapeErr = 0;
    let shapeMax = 0;
    let staticMax = 0;
    let rigidCount = 0;
    let shapeCount = 0;
    for (let i = 1; i <= F; i++) {
      const T = ref.similarityLeastSquares(
        rigid.drags.map(([a]) => a),
        rigid.drags.map(([a, b]) => at(a, b, i)),
      );
      const p = [...shape.drags.map(([a]) => a), shape.anchor];
      const q = [...shape.drags.map(([a, b]) => at(a, b, i)), shape.anchor];
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const g = flowAt(f1, i - 1, x, y);
          if (inDisc(x, y, 16, 16, 12)) {
            rigidCount++;
            const e: Pt = [T[0] * x - T[1] * y + T[2] - x, T[1] * x + T[0] * y + T[3] - y];
            rigidErr = Math.max(rigidErr, Math.abs(g[0] - e[0]), Math.abs(g[1] - e[1]));
          } else if (inDisc(x, y, 44, 18, 14)) {
            shapeCount++;
            const m = ref.rigidMls([x, y], p, q);
            shapeErr = Math.max(shapeErr, Math.abs(g[0] - (m[0] - x)), Math.abs(g[1] - (m[1] - y)));
            shapeMax = Math.max(shapeMax, Math.hypot(m[0] - x, m[1] - y));
          } else if (!inDisc(x, y, 16, 48, 10)) {
            staticMax = Math.max(staticMax, Math.abs(g[0]), Math.abs(g[1]));
          }
        }
    }
    const fluidCentre = flowAt(f1, F - 1, 16, 48);
    const fluidEdge = flowAt(f1, F - 1, 16, 56);

    // Scene 2: a dark square on a bright background, a rough rigid disc over it, one drag.
    const sq = (x: number, y: number) => x >= 20 && x < 44 && y >= 20 && y < 44;
    const img2 = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img2.set(sq(x, y) ? [40, 50, 60, 255] : [220, 215, 210, 255], 4 * (y * W + x));
    const p2 = emptyProject();
    p2.canvas = { width: W, height: H };
    p2.settings = { ...p2.settings, frames: F + 1 };
    p2.brush = [{ mode: 'paint', radius: 14, points: [{ x: 32, y: 32 }], motion: 'rigid' }];
    p2.trajectories = [traj('d', [32, 32], [36, 30])];
    const mismatch = async (feather: number) => {
      const f = await run(img2, { ...p2, settings: { ...p2.settings, brushFeather: feather } });
      let bad = 0;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const g = flowAt(f, F - 1, x, y);
          const e: Pt = sq(x, y) ? [4, -2] : [0, 0];
          if (Math.abs(g[0] - e[0]) > 1e-4 || Math.abs(g[1] - e[1]) > 1e-4) bad++;
        }
      return bad;
    };
    const badRough = await mismatch(0);
    const badSnapped = await mismatch(6);
    engine.dispose();
    device.destroy();
    return { rigidErr, shapeErr, shapeMax, staticMax, rigidCount, shapeCount, fluidCentre, fluidEdge, badRough, badSnapped };
  });
  console.log('region flows vs CPU references', r);
  expect(r.rigidCount).toBeGreaterThan(800);
  expect(r.shapeCount).toBeGreaterThan(1000);
  // Rigid: the transform exactly, up to float32 rounding of coordinates near 30 px.
  expect(r.rigidErr).toBeLessThan(1e-3);
  // Shape-preserving: Schaefer's formula in float64 vs the kernel in float32.
  expect(r.shapeMax).toBeGreaterThan(2);
  expect(r.shapeErr).toBeLessThan(2e-3);
  expect(r.staticMax).toBe(0);
  // Fluid paint still follows its drag: exact at the drag, spread inside the paint.
  expect(r.fluidCentre[0]).toBeCloseTo(4, 4);
  expect(r.fluidEdge[0]).toBeGreaterThan(0.5);
  // The rough disc misses the square's corners and overshoots its sides; snapped, it is the square.
  expect(r.badRough).toBeGreaterThan(50);
  expect(r.badSnapped).toBe(0);
});
