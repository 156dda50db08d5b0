/**
 * Seeded Gaussian noise for stage 1, so one seed always gives the same motion: a 32-bit
 * counter-free generator (mulberry32) and the Box-Muller transform, on the CPU (a few hundred
 * thousand values at full size). Stage 1 draws, in this order: the initial latent noise
 * [1, 4, F1, h, w], the image VAE's posterior noise [1, 4, h, w], the flow VAE's [F1, 4, h, w].
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from `random` (uniform in [0, 1)). */
export function gaussian(random: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - random(); // (0, 1]: log is finite
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

export interface Stage1Noise {
  noise: Float32Array;
  imageEps: Float32Array;
  controlEps: Float32Array;
}

export function stage1Noise(seed: number, shape: { frames: number; height: number; width: number }): Stage1Noise {
  const random = mulberry32(seed);
  const plane = 4 * shape.height * shape.width;
  return {
    noise: gaussian(random, plane * shape.frames),
    imageEps: gaussian(random, plane),
    controlEps: gaussian(random, plane * shape.frames),
  };
}
