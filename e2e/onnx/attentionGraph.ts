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

export interface AttentionGraphShape { B: number; F: number; P: number; C: number; heads: number }

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
    nodes.push({ op: 'Slice', inputs: [data, i64(`${out}.starts`, starts), i64(`${out}.ends`, ends), i64(`${out}.axes`, axes)], outputs: [out] });
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
  op('MatMul', ['qh', 'kh'], 'scores');                      // [B, P, H, F, L]
  op('Softmax', ['scores'], 'probs', { axis: -1 });
  op('MatMul', ['probs', 'vh'], 'oh');                       // [B, P, H, F, D]
  op('Transpose', ['oh'], 'o5', { perm: [0, 3, 1, 2, 4] });  // [B, F, P, H, D]
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
