/**
 * Middlebury .flo optical-flow files: float32 tag 202021.25 ("PIEH"), int32 width, int32
 * height, then width * height * 2 float32 (u, v interleaved, row-major), all little-endian.
 * Bytes after the data are ignored, as the Middlebury reader does.
 */
import { AppError } from '../errors';

export const FLO_TAG = 202021.25;
/** Largest side we accept: beyond any real flow field, small enough to reject garbage headers. */
export const FLO_MAX_SIDE = 16384;
/** Largest pixel count we accept (64 Mpx = 512 MiB of float32 u, v). */
export const FLO_MAX_PIXELS = 1 << 26;

export interface FlowField {
  width: number;
  height: number;
  /** [H, W, 2] interleaved (u, v) in pixels. */
  data: Float32Array;
}

function floError(problem: string): AppError {
  return new AppError('flow-file', `This is not a readable .flo flow file: ${problem}.`);
}

export function readFlo(bytes: ArrayBuffer | ArrayBufferView): FlowField {
  const view = bytes instanceof ArrayBuffer ? new DataView(bytes) : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength < 12) throw floError(`it has ${view.byteLength} bytes, fewer than the 12-byte header`);
  const tag = view.getFloat32(0, true);
  if (tag !== FLO_TAG) throw floError(`the header tag is ${tag}, expected ${FLO_TAG} ("PIEH")`);
  const width = view.getInt32(4, true);
  const height = view.getInt32(8, true);
  if (width < 1 || height < 1 || width > FLO_MAX_SIDE || height > FLO_MAX_SIDE || width * height > FLO_MAX_PIXELS) {
    throw floError(`its size ${width}x${height} is outside 1..${FLO_MAX_SIDE} per side (at most ${FLO_MAX_PIXELS} pixels)`);
  }
  const count = width * height * 2;
  const needed = 12 + count * 4;
  if (view.byteLength < needed) {
    throw floError(`it is truncated: ${width}x${height} needs ${needed} bytes but it has ${view.byteLength}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(12 + i * 4, true);
  return { width, height, data };
}

export function writeFlo(flow: FlowField): ArrayBuffer {
  const { width, height, data } = flow;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > FLO_MAX_SIDE || height > FLO_MAX_SIDE) {
    throw new RangeError(`writeFlo: size ${width}x${height} is outside 1..${FLO_MAX_SIDE}`);
  }
  const count = width * height * 2;
  if (data.length !== count) throw new RangeError(`writeFlo: data has ${data.length} values, expected ${count} for ${width}x${height}x2`);
  const buffer = new ArrayBuffer(12 + count * 4);
  const view = new DataView(buffer);
  view.setFloat32(0, FLO_TAG, true);
  view.setInt32(4, width, true);
  view.setInt32(8, height, true);
  for (let i = 0; i < count; i++) view.setFloat32(12 + i * 4, data[i], true);
  return buffer;
}

/** [H, W, 2] interleaved -> [2, H, W] planar (u plane, then v plane), the layout our tensors use. */
export function interleavedToPlanar(data: Float32Array, width: number, height: number): Float32Array {
  const plane = width * height;
  if (data.length !== plane * 2) throw new RangeError(`interleavedToPlanar: ${data.length} values, expected ${plane * 2}`);
  const out = new Float32Array(plane * 2);
  for (let i = 0; i < plane; i++) {
    out[i] = data[2 * i];
    out[plane + i] = data[2 * i + 1];
  }
  return out;
}

/** [2, H, W] planar -> [H, W, 2] interleaved (for writeFlo). */
export function planarToInterleaved(data: Float32Array, width: number, height: number): Float32Array {
  const plane = width * height;
  if (data.length !== plane * 2) throw new RangeError(`planarToInterleaved: ${data.length} values, expected ${plane * 2}`);
  const out = new Float32Array(plane * 2);
  for (let i = 0; i < plane; i++) {
    out[2 * i] = data[i];
    out[2 * i + 1] = data[plane + i];
  }
  return out;
}
