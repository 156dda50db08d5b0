import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { FLO_TAG, interleavedToPlanar, planarToInterleaved, readFlo, writeFlo } from './flo';

/** Build .flo bytes by hand (independent of writeFlo). */
function floBytes(tag: number, width: number, height: number, values: number[]): ArrayBuffer {
  const buf = new ArrayBuffer(12 + values.length * 4);
  const v = new DataView(buf);
  v.setFloat32(0, tag, true);
  v.setInt32(4, width, true);
  v.setInt32(8, height, true);
  values.forEach((x, i) => v.setFloat32(12 + i * 4, x, true));
  return buf;
}

function floError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('flow-file');
    return e as AppError;
  }
  throw new Error('expected a flow-file error');
}

describe('readFlo / writeFlo', () => {
  it('reads a hand-made 2 x 1 file: header, then u, v interleaved row-major', () => {
    // Header bytes: "PIEH" is the little-endian float32 202021.25.
    const bytes = floBytes(FLO_TAG, 2, 1, [1.5, -2, 3.25, 4]);
    expect(new TextDecoder().decode(new Uint8Array(bytes, 0, 4))).toBe('PIEH');
    const f = readFlo(bytes);
    expect([f.width, f.height]).toEqual([2, 1]);
    expect(Array.from(f.data)).toEqual([1.5, -2, 3.25, 4]);
  });

  it('round-trips through writeFlo byte for byte', () => {
    const data = Float32Array.from({ length: 3 * 2 * 2 }, (_, i) => (i - 5) * 0.37);
    const bytes = writeFlo({ width: 3, height: 2, data });
    expect(bytes.byteLength).toBe(12 + 12 * 4);
    expect(new Uint8Array(bytes)).toEqual(new Uint8Array(floBytes(FLO_TAG, 3, 2, Array.from(data))));
    const back = readFlo(new Uint8Array(bytes));
    expect(back.data).toEqual(data);
  });

  it('accepts a view into a larger buffer and ignores trailing bytes', () => {
    const inner = new Uint8Array(floBytes(FLO_TAG, 1, 1, [7, 8]));
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 3);
    expect(Array.from(readFlo(outer.subarray(3, 3 + inner.length + 4)).data)).toEqual([7, 8]);
  });

  it('rejects a wrong tag, a short header, absurd sizes and truncated data with clear messages', () => {
    expect(floError(() => readFlo(floBytes(1234, 1, 1, [0, 0]))).message).toMatch(/tag/);
    expect(floError(() => readFlo(new ArrayBuffer(8))).message).toMatch(/header/);
    expect(floError(() => readFlo(floBytes(FLO_TAG, 0, 5, []))).message).toMatch(/size 0x5/);
    expect(floError(() => readFlo(floBytes(FLO_TAG, -3, 5, []))).message).toMatch(/size -3x5/);
    expect(floError(() => readFlo(floBytes(FLO_TAG, 100000, 2, []))).message).toMatch(/size 100000x2/);
    expect(floError(() => readFlo(floBytes(FLO_TAG, 16384, 16384, []))).message).toMatch(/pixels/);
    expect(floError(() => readFlo(floBytes(FLO_TAG, 2, 2, [1, 2, 3]))).message).toMatch(/truncated: 2x2 needs 44 bytes but it has 24/);
  });

  it('writeFlo checks its input', () => {
    expect(() => writeFlo({ width: 2, height: 2, data: new Float32Array(7) })).toThrow(/expected 8/);
    expect(() => writeFlo({ width: 0, height: 2, data: new Float32Array(0) })).toThrow(RangeError);
  });

  it('converts between interleaved [H, W, 2] and planar [2, H, W]', () => {
    const inter = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60]); // 3 x 2
    const planar = interleavedToPlanar(inter, 3, 2);
    expect(Array.from(planar)).toEqual([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]);
    expect(planarToInterleaved(planar, 3, 2)).toEqual(inter);
  });
});

describe('real media: ../shared/media/softsplat/flow.flo', () => {
  it('reads the 320 x 320 flow of the softmax-splatting sample with finite values', () => {
    const path = fileURLToPath(new URL('../../../shared/media/softsplat/flow.flo', import.meta.url));
    const file = readFileSync(path);
    const f = readFlo(file);
    expect([f.width, f.height]).toEqual([320, 320]);
    expect(f.data.length).toBe(320 * 320 * 2);
    expect(f.data.every(Number.isFinite)).toBe(true);
    // Values read independently with NumPy (np.fromfile(..., '<f4')[3:].reshape(320, 320, 2)):
    // pixel (0, 0) u = 25.34419822692871, v = -0.22249622642993927; pixel (x 200, y 160)
    // u = -4.740487098693848, v = -2.1727941036224365; mean u 10.2103, mean v -0.92375.
    expect(f.data[0]).toBe(25.34419822692871);
    expect(f.data[1]).toBe(-0.22249622642993927);
    expect(f.data[(160 * 320 + 200) * 2]).toBe(-4.740487098693848);
    expect(f.data[(160 * 320 + 200) * 2 + 1]).toBe(-2.1727941036224365);
    const planar = interleavedToPlanar(f.data, 320, 320);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(planar.subarray(0, 320 * 320))).toBeCloseTo(10.21027693850612, 4);
    expect(mean(planar.subarray(320 * 320))).toBeCloseTo(-0.9237479180851403, 4);
  });
});
