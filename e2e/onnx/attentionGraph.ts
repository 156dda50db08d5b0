/**
 * The motion-augmented attention core (after the projections, before to_out) as an ONNX graph,
 * i.e. what the kernel replaces if the attention stayed in ONNX. Same inputs and output as
 * MotionAttention: qkv [B, F, P, 3C], warped [B, F-1, P, 2C], pe [2F-1, 3C] -> out [B, F, P, C].
 *
 * Written as a fair baseline, not a straw man: attention does not depend on the ORDER of keys,
 * only on which position encoding each key carries, so keys/values are concatenated as
 * [originals, warped] (one Concat) and the position table is permuted to match with a Gather
 * (rows 0, 2, ..., 2F-2, then 1, 3, ..., 2F-3) instead of materialising the interleave; the
 * scale multiplies Q (F rows) rather than the scores.
 */
import { encodeModel, type NodeSpec, type TensorSpec } from './proto';

export interface AttentionGraphShape {
  B: number;
  F: number;
  P: number;
  C: number;
  heads: number;
}

export function motionAttentionGraph({ B, F, P, C, heads }: AttentionGraphShape): Uint8Array {
  const L = 2 * F - 1;
  const D = C / heads;
  const nodes: NodeSpec[] = [];
  const inits: TensorSpec[] = [];
  const i64 = (name: string, values: number[]) => {
    inits.push({ name, dims: [values.length], data: values, type: 'int64' });
    return name;
  };
  const slice = (out: string, data: string, starts: number[], ends: number[], axes: number[]) => {
    nodes.push({
      op: 'Slice',
      inputs: [data, i64(`${out}.starts`, starts), i64(`${out}.ends`, ends), i64(`${out}.axes`, axes)],
      outputs: [out],
    });
  };
  const reshape = (out: string, data: string, shape: number[]) => {
    nodes.push({ op: 'Reshape', inputs: [data, i64(`${out}.shape`, shape)], outputs: [out] });
  };
  const op = (opType: string, inputs: string[], out: string, attrs?: NodeSpec['attrs']) => {
    nodes.push({ op: opType, inputs, outputs: [out], attrs });
  };

  // split projections
  slice('q', 'qkv', [0], [C], [3]);
  slice('k', 'qkv', [C], [2 * C], [3]);
  slice('v', 'qkv', [2 * C], [3 * C], [3]);
  slice('wk', 'warped', [0], [C], [3]);
  slice('wv', 'warped', [C], [2 * C], [3]);
  // position table in key order [even positions, odd positions]
  const order = [...Array.from({ length: F }, (_, i) => 2 * i), ...Array.from({ length: F - 1 }, (_, i) => 2 * i + 1)];
  op('Gather', ['pe', i64('pe.order', order)], 'pe_ord', { axis: 0 });
  slice('pe_q', 'pe_ord', [0, 0], [F, C], [0, 1]);
  slice('pe_k', 'pe_ord', [C], [2 * C], [1]);
  slice('pe_v', 'pe_ord', [2 * C], [3 * C], [1]);
  reshape('pe_q4', 'pe_q', [1, F, 1, C]);
  reshape('pe_k4', 'pe_k', [1, L, 1, C]);
  reshape('pe_v4', 'pe_v', [1, L, 1, C]);
  // tokens + position encoding
  op('Add', ['q', 'pe_q4'], 'q_pe');
  inits.push({ name: 'scale', dims: [], data: new Float32Array([1 / Math.sqrt(D)]) });
  op('Mul', ['q_pe', 'scale'], 'q_s');
  op('Concat', ['k', 'wk'], 'k_all', { axis: 1 });
  op('Concat', ['v', 'wv'], 'v_all', { axis: 1 });
  op('Add', ['k_all', 'pe_k4'], 'k_pe');
  op('Add', ['v_all', 'pe_v4'], 'v_pe');
  // heads
  reshape('q5', 'q_s', [B, F, P, heads, D]);
  reshape('k5', 'k_pe', [B, L, P, heads, D]);
  reshape('v5', 'v_pe', [B, L, P, heads, D]);
  op('Transpose', ['q5'], 'qh', { perm: [0, 2, 3, 1, 4] }); // [B, P, H, F, D]
  op('Transpose', ['k5'], 'kh', { perm: [0, 2, 3, 4, 1] }); // [B, P, H, D, L]
  op('Transpose', ['v5'], 'vh', { perm: [0, 2, 3, 1, 4] }); // [B, P, H, L, D]
  op('MatMul', ['qh', 'kh'], 'scores'); // [B, P, H, F, L]
  op('Softmax', ['scores'], 'probs', { axis: -1 });
  op('MatMul', ['probs', 'vh'], 'oh'); // [B, P, H, F, D]
  op('Transpose', ['oh'], 'o5', { perm: [0, 3, 1, 2, 4] }); // [B, F, P, H, D]
  reshape('out', 'o5', [B, F, P, C]);

  return encodeModel({
    name: 'motion_attention_core',
    nodes,
    initializers: inits,
    inputs: [
      { name: 'qkv', dims: [B, F, P, 3 * C] },
      { name: 'warped', dims: [B, F - 1, P, 2 * C] },
      { name: 'pe', dims: [L, 3 * C] },
    ],
    outputs: [{ name: 'out', dims: [B, F, P, C] }],
  });
}

export interface AttentionWeights {
  /** to_q / to_k / to_v, torch Linear layout [out = C, in = C], no bias. */
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  /** Unprojected position table [>= 2F-1, C]. */
  pe: Float32Array;
}

/** W [out, in] (torch) -> W^T [in, out] for MatMul(x, W^T). */
function transposed(W: Float32Array, C: number, rows = C): Float32Array {
  const t = new Float32Array(W.length);
  for (let o = 0; o < rows; o++) for (let i = 0; i < C; i++) t[i * rows + o] = W[o * C + i];
  return t;
}

/**
 * The attention with its projections, in the reference order (what tools/export's current cut
 * leaves to the segment after the WGSL warp/interleave step): input `kv` [B, 2F-1, P, C]
 * interleaved, unprojected tokens; + pe; q from even slots, k/v from all; attention -> [B, F, P, C]
 * (before to_out).
 */
export function motionAttentionWithProjectionsGraph({ B, F, P, C, heads }: AttentionGraphShape, w: AttentionWeights): Uint8Array {
  const L = 2 * F - 1;
  const D = C / heads;
  const nodes: NodeSpec[] = [];
  const inits: TensorSpec[] = [];
  const i64 = (name: string, values: number[]) => {
    inits.push({ name, dims: [values.length], data: values, type: 'int64' });
    return name;
  };
  const op = (opType: string, inputs: string[], out: string, attrs?: NodeSpec['attrs']) =>
    nodes.push({ op: opType, inputs, outputs: [out], attrs });
  inits.push({ name: 'pe', dims: [1, L, 1, C], data: w.pe.slice(0, L * C) });
  inits.push({ name: 'wqT', dims: [C, C], data: transposed(w.wq, C) });
  inits.push({ name: 'wkT', dims: [C, C], data: transposed(w.wk, C) });
  inits.push({ name: 'wvT', dims: [C, C], data: transposed(w.wv, C) });
  inits.push({ name: 'scale', dims: [], data: new Float32Array([1 / Math.sqrt(D)]) });
  op('Add', ['kv', 'pe'], 'x');
  op(
    'Gather',
    [
      'x',
      i64(
        'even',
        Array.from({ length: F }, (_, i) => 2 * i),
      ),
    ],
    'x_even',
    { axis: 1 },
  );
  op('MatMul', ['x_even', 'wqT'], 'q');
  op('MatMul', ['x', 'wkT'], 'k');
  op('MatMul', ['x', 'wvT'], 'v');
  op('Mul', ['q', 'scale'], 'q_s');
  op('Reshape', ['q_s', i64('q5.shape', [B, F, P, heads, D])], 'q5');
  op('Reshape', ['k', i64('k5.shape', [B, L, P, heads, D])], 'k5');
  op('Reshape', ['v', i64('v5.shape', [B, L, P, heads, D])], 'v5');
  op('Transpose', ['q5'], 'qh', { perm: [0, 2, 3, 1, 4] });
  op('Transpose', ['k5'], 'kh', { perm: [0, 2, 3, 4, 1] });
  op('Transpose', ['v5'], 'vh', { perm: [0, 2, 3, 1, 4] });
  op('MatMul', ['qh', 'kh'], 'scores');
  op('Softmax', ['scores'], 'probs', { axis: -1 });
  op('MatMul', ['probs', 'vh'], 'oh');
  op('Transpose', ['oh'], 'o5', { perm: [0, 3, 1, 2, 4] });
  op('Reshape', ['o5', i64('out.shape', [B, F, P, C])], 'out');
  return encodeModel({
    name: 'motion_attention_with_projections',
    nodes,
    initializers: inits,
    inputs: [{ name: 'kv', dims: [B, L, P, C] }],
    outputs: [{ name: 'out', dims: [B, F, P, C] }],
  });
}

/**
 * The projections our split moves before the cut: tok [B, F, P, C] -> qkv [B, F, P, 3C]
 * (one MatMul with [Wq | Wk | Wv]^T) and kv0 [B, P, 2C] (frame 0's [k | v], the splat input).
 */
export function qkvProjectionGraph({ B, F, P, C }: AttentionGraphShape, w: AttentionWeights): Uint8Array {
  const wqkv = new Float32Array(3 * C * C);
  wqkv.set(w.wq, 0);
  wqkv.set(w.wk, C * C);
  wqkv.set(w.wv, 2 * C * C);
  const i64 = (name: string, values: number[]): TensorSpec => ({ name, dims: [values.length], data: values, type: 'int64' });
  return encodeModel({
    name: 'qkv_projection',
    nodes: [
      { op: 'MatMul', inputs: ['tok', 'wqkvT'], outputs: ['qkv'] },
      { op: 'Slice', inputs: ['qkv', 'kv0.starts', 'kv0.ends', 'kv0.axes'], outputs: ['kv0_4'] },
      { op: 'Reshape', inputs: ['kv0_4', 'kv0.shape'], outputs: ['kv0'] },
    ],
    initializers: [
      { name: 'wqkvT', dims: [C, 3 * C], data: transposed(wqkv, C, 3 * C) },
      i64('kv0.starts', [0, C]),
      i64('kv0.ends', [1, 3 * C]),
      i64('kv0.axes', [1, 3]),
      i64('kv0.shape', [B, P, 2 * C]),
    ],
    inputs: [{ name: 'tok', dims: [B, F, P, C] }],
    outputs: [
      { name: 'qkv', dims: [B, F, P, 3 * C] },
      { name: 'kv0', dims: [B, P, 2 * C] },
    ],
  });
}
