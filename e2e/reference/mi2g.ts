/**
 * Reader for MI2G golden tensor files (format: tools/export/README.md, writer: tools/export/golden.py).
 * Written in the test tree from the format description, independently of any src/ loader, so a
 * bug in the product's reader cannot hide a bug in the goldens or vice versa.
 *
 * Layout (little-endian): "MI2G", u32 version = 1, u32 J, J bytes of JSON
 * {"tensors":[{name, dtype: "float32"|"int32", shape, offset, nbytes}], "meta"}, then the data
 * section at 12 + J (offsets relative to it, 4-byte aligned, C order).
 */
export interface GoldenTensor {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface GoldenFile {
  tensors: Map<string, GoldenTensor>;
  meta: Record<string, unknown>;
}

export function readMi2g(bytes: ArrayBuffer, label = 'golden'): GoldenFile {
  const view = new DataView(bytes);
  const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== 'MI2G') throw new Error(`${label}: not an MI2G file (magic ${JSON.stringify(magic)})`);
  const version = view.getUint32(4, true);
  if (version !== 1) throw new Error(`${label}: MI2G version ${version}, expected 1`);
  const jsonLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 12, jsonLength))) as {
    tensors: { name: string; dtype: string; shape: number[]; offset: number; nbytes: number }[];
    meta?: Record<string, unknown>;
  };
  const base = 12 + jsonLength;
  const tensors = new Map<string, GoldenTensor>();
  for (const e of header.tensors) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (e.nbytes !== count * 4) throw new Error(`${label}: ${e.name} has ${e.nbytes} bytes for shape [${e.shape}]`);
    if (base + e.offset + e.nbytes > bytes.byteLength) throw new Error(`${label}: ${e.name} runs past the end of the file`);
    // Copy: the data section is 4-byte aligned relative to itself, and 12 + J is a multiple of 4.
    const slice = bytes.slice(base + e.offset, base + e.offset + e.nbytes);
    let data: Float32Array | Int32Array;
    if (e.dtype === 'float32') data = new Float32Array(slice);
    else if (e.dtype === 'int32') data = new Int32Array(slice);
    else throw new Error(`${label}: ${e.name} has unsupported dtype ${e.dtype}`);
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, meta: header.meta ?? {} };
}

/** max |a - b| and that divided by max |b| (the reference's scale). */
export function compare(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
): { maxAbs: number; scale: number; rel: number; nonFinite: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let maxAbs = 0;
  let scale = 0;
  let nonFinite = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    if (!Number.isFinite(g)) {
      nonFinite++;
      continue;
    }
    maxAbs = Math.max(maxAbs, Math.abs(g - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { maxAbs, scale, rel: scale > 0 ? maxAbs / scale : maxAbs, nonFinite };
}
