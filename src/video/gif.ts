/**
 * Frames -> an animated GIF that loops forever (the authors' demo writes 8 fps GIFs).
 *
 * gifenc (MIT) builds the palette (pairwise nearest-neighbour quantisation) and writes the LZW
 * stream; the mapping to the palette and the frame differencing are done here because they
 * decide how the animation looks and how big the file is:
 * - One global palette of 255 colours, built from all frames. The frames of a clip come from
 *   one photo, so one palette covers them, and a pixel that does not move keeps exactly the
 *   same index in every frame: static areas never shimmer (per-frame palettes shift colours
 *   from frame to frame) and frames after the first store only the pixels that changed, the
 *   rest as the 256th, transparent index over the previous frame.
 * - Ordered (8x8 Bayer) dithering, not error diffusion: the dither pattern is fixed to the
 *   pixel position, so unchanged pixels stay unchanged; error diffusion makes still areas
 *   crawl from frame to frame and defeats the differencing. It trades a little PSNR for
 *   smooth gradients (skies) instead of bands.
 * GIF delays are whole centiseconds, so 8 fps alternates 12 and 13 cs and the clip keeps its
 * exact length (16 frames at 8 fps = 2.00 s).
 */
import { GIFEncoder, quantize, type Palette } from 'gifenc';
import { AbortError, EncodeError } from '../errors';
import type { EncodableFrame, StageProgress } from './encode';

export interface RgbaFrame {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

export interface GifOptions {
  /** Frames per second, 1..50 (GIF delays are centiseconds; below 2 cs players slow down). */
  fps: number;
  /** Ordered dithering on (default) or off (flat colour bands, slightly smaller files). */
  dither?: boolean;
  signal?: AbortSignal;
  /** Fired after each frame; stage 'gif'. */
  onProgress?: (p: StageProgress) => void;
  /** When given, `fileName` is `<baseName>.gif` (the base name already says `<fps>fps`). */
  baseName?: string;
}

export interface EncodedGif {
  blob: Blob;
  fileName?: string;
  width: number;
  height: number;
  fps: number;
  frameCount: number;
  /** Colours in the global palette (without the transparent entry). */
  colors: number;
}

export const GIF_MAX_FPS = 50;
const PALETTE_COLORS = 255;
const TRANSPARENT = 255;
/** Peak-to-peak amplitude of the ordered dither in 8-bit levels (about one palette step on a photo). */
const DITHER_AMPLITUDE = 12;

/** 8x8 Bayer matrix, thresholds in [-0.5, 0.5). */
const BAYER8 = (() => {
  const m = new Float32Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let v = 0;
      for (let bit = 0, xx = x, yy = y ^ x; bit < 3; bit++, xx >>= 1, yy >>= 1) v = (v << 2) | (((yy & 1) << 1) | (xx & 1));
      m[y * 8 + x] = (v + 0.5) / 64 - 0.5;
    }
  }
  return m;
})();

/** Centisecond delay of each frame so that frame k starts at round(100 k / fps) cs. */
export function gifDelaysCs(frameCount: number, fps: number): number[] {
  const at = (k: number) => Math.round((100 * k) / fps);
  return Array.from({ length: frameCount }, (_, k) => at(k + 1) - at(k));
}

/** Pixels sampled from every frame (every `step`-th pixel) for the palette. */
function paletteSample(frames: readonly RgbaFrame[]): Uint8Array {
  const total = frames.reduce((a, f) => a + f.width * f.height, 0);
  const step = Math.max(1, Math.floor(total / 400_000));
  const out = new Uint8Array(Math.ceil(total / step) * 4 + 4 * frames.length);
  let o = 0;
  for (const f of frames) {
    const n = f.width * f.height;
    for (let p = 0; p < n; p += step, o += 4) {
      out[o] = f.data[p * 4];
      out[o + 1] = f.data[p * 4 + 1];
      out[o + 2] = f.data[p * 4 + 2];
      out[o + 3] = 255;
    }
  }
  return out.subarray(0, o);
}

/**
 * Maps RGB to palette indices through a cache over 6 bits per channel, filled on first use
 * from the cell's centre, so the same (dithered) colour gives the same index in every frame.
 */
class PaletteMapper {
  private readonly cache = new Int16Array(1 << 18).fill(-1);
  constructor(private readonly palette: Palette) {}
  index(r: number, g: number, b: number): number {
    const key = ((r >> 2) << 12) | ((g >> 2) << 6) | (b >> 2);
    let k = this.cache[key];
    if (k < 0) {
      const cr = (r & ~3) + 1.5;
      const cg = (g & ~3) + 1.5;
      const cb = (b & ~3) + 1.5;
      let best = 0;
      let bestD = Infinity;
      for (let i = 0; i < this.palette.length; i++) {
        const c = this.palette[i];
        const d = (c[0] - cr) ** 2 + (c[1] - cg) ** 2 + (c[2] - cb) ** 2;
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      k = this.cache[key] = best;
    }
    return k;
  }
}

function indexFrame(f: RgbaFrame, mapper: PaletteMapper, dither: boolean): Uint8Array {
  const { width, height, data } = f;
  const out = new Uint8Array(width * height);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v | 0);
  for (let y = 0, p = 0; y < height; y++) {
    const row = (y & 7) * 8;
    for (let x = 0; x < width; x++, p++) {
      const t = dither ? BAYER8[row + (x & 7)] * DITHER_AMPLITUDE : 0;
      out[p] = mapper.index(clamp(data[p * 4] + t + 0.5), clamp(data[p * 4 + 1] + t + 0.5), clamp(data[p * 4 + 2] + t + 0.5));
    }
  }
  return out;
}

const nextTask = () => new Promise<void>((r) => setTimeout(r, 0));

/** Encodes RGBA frames (all one size) into a looping GIF. Throws EncodeError or AbortError. */
export async function encodeGifRgba(frames: readonly RgbaFrame[], options: GifOptions): Promise<EncodedGif> {
  const { signal, onProgress, fps } = options;
  if (frames.length === 0) throw new EncodeError('There are no frames to export: generate a video first.');
  if (!(fps > 0 && fps <= GIF_MAX_FPS)) throw new EncodeError(`Frame rate ${fps} is out of range for a GIF: use 1 to ${GIF_MAX_FPS} fps.`);
  const { width, height } = frames[0];
  if (width < 1 || height < 1 || width > 65535 || height > 65535)
    throw new EncodeError(`Frame size ${width}x${height} cannot be stored in a GIF.`);
  frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height)
      throw new EncodeError(`Frame ${i} is ${f.width}x${f.height} but frame 0 is ${width}x${height}: all frames must have one size.`);
  });
  signal?.throwIfAborted();

  const palette = quantize(paletteSample(frames), PALETTE_COLORS, { format: 'rgb565' }).map((c) => [c[0], c[1], c[2]]);
  const colors = palette.length;
  while (palette.length < 256) palette.push([0, 0, 0]); // the transparent entry (and padding to a power of two)
  const mapper = new PaletteMapper(palette.slice(0, colors));
  const dither = options.dither ?? true;
  const delays = gifDelaysCs(frames.length, fps);
  const gif = GIFEncoder();
  let previous: Uint8Array | null = null;
  for (let i = 0; i < frames.length; i++) {
    if (signal?.aborted) throw new AbortError();
    const index = indexFrame(frames[i], mapper, dither);
    let stored = index;
    if (previous) {
      // Unchanged pixels become transparent: the previous frame shows through (disposal 1).
      stored = index.slice();
      for (let p = 0; p < stored.length; p++) if (stored[p] === previous[p]) stored[p] = TRANSPARENT;
    }
    gif.writeFrame(stored, width, height, {
      palette: i === 0 ? palette : undefined,
      delay: delays[i] * 10,
      repeat: 0,
      dispose: 1,
      transparent: i > 0,
      transparentIndex: TRANSPARENT,
    });
    previous = index;
    onProgress?.({ stage: 'gif', fraction: ((i + 1) / frames.length) * 0.95 });
    await nextTask(); // keep the page responsive and let Cancel in
  }
  if (signal?.aborted) throw new AbortError();
  gif.finish();
  const bytes = gif.bytes();
  onProgress?.({ stage: 'gif', fraction: 1 });
  return {
    blob: new Blob([bytes as BlobPart], { type: 'image/gif' }),
    fileName: options.baseName ? `${options.baseName}.gif` : undefined,
    width,
    height,
    fps,
    frameCount: frames.length,
    colors,
  };
}

function readPixels(f: EncodableFrame, canvas: OffscreenCanvas, ctx: OffscreenCanvasRenderingContext2D): RgbaFrame {
  if (f instanceof ImageData) return f;
  const width = 'displayWidth' in f ? f.displayWidth : f.width;
  const height = 'displayWidth' in f ? f.displayHeight : f.height;
  canvas.width = width;
  canvas.height = height;
  ctx.drawImage(f, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

/** Encodes ImageBitmaps, VideoFrames or ImageData into a looping GIF (see encodeGifRgba). */
export async function encodeGif(frames: readonly EncodableFrame[], options: GifOptions): Promise<EncodedGif> {
  if (frames.length === 0) throw new EncodeError('There are no frames to export: generate a video first.');
  const canvas = new OffscreenCanvas(1, 1);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new EncodeError('Could not create a 2D canvas to read the frames for the GIF.');
  const rgba = frames.map((f) => readPixels(f, canvas, ctx));
  return encodeGifRgba(rgba, options);
}
