/**
 * A minimal ONNX (protobuf) writer for tests: enough of ModelProto / GraphProto / NodeProto /
 * TensorProto / ValueInfoProto / AttributeProto to build small fp32 graphs in the browser and
 * hand the bytes to onnxruntime-web, so no generated .onnx file is committed. Field numbers
 * are those of onnx/onnx.proto (IR version 8, opset 17).
 *
 * Protobuf wire format: each field is a varint key (field << 3 | wire type) then the value:
 * wire type 0 = varint (ints, enums), 2 = length-delimited (strings, bytes, sub-messages,
 * packed repeated), 5 = fixed32 (float).
 */

class Writer {
  private parts: number[] = [];

  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number((x & 0x7fn) | 0x80n));
      x >>= 7n;
    }
    this.parts.push(Number(x));
    return this;
  }
  key(field: number, wire: 0 | 2 | 5): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    return this.key(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2).varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Uint8Array): this {
    return this.bytes(field, m);
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.parts.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

export type AttrValue = number | number[] | string | { floats: number[] } | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  name?: string;
}

export interface TensorSpec {
  name: string;
  dims: number[];
  /** fp32 data (Float32Array) or int64 data (BigInt64Array or plain integers). */
  data: Float32Array | BigInt64Array | number[];
  type?: 'float32' | 'int64';
}

export interface ValueSpec {
  name: string;
  dims: number[];
  type?: 'float32' | 'int64';
}

function tensorProto(t: TensorSpec): Uint8Array {
  const isInt = t.type === 'int64' || t.data instanceof BigInt64Array;
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, isInt ? DataType.INT64 : DataType.FLOAT);
  w.string(8, t.name);
  let raw: Uint8Array;
  if (isInt) {
    const a = t.data instanceof BigInt64Array ? t.data : BigInt64Array.from((t.data as number[]).map((x) => BigInt(x)));
    raw = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  } else {
    const a = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as number[]);
    raw = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  w.bytes(9, raw);
  return w.finish();
}

function valueInfo(v: ValueSpec): Uint8Array {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, new Writer().int(1, d).finish()); // Dimension.dim_value
  const tensorType = new Writer().int(1, v.type === 'int64' ? DataType.INT64 : DataType.FLOAT).message(2, shape.finish());
  const type = new Writer().message(1, tensorType.finish()); // TypeProto.tensor_type
  return new Writer().string(1, v.name).message(2, type.finish()).finish();
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1,
  ATTR_INT = 2,
  ATTR_STRING = 3,
  ATTR_FLOATS = 6,
  ATTR_INTS = 7;

function attribute(name: string, v: AttrValue): Uint8Array {
  const w = new Writer().string(1, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    w.int(3, v).int(20, ATTR_INT);
  } else if (typeof v === 'string') {
    w.string(4, v).int(20, ATTR_STRING);
  } else if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    w.int(20, ATTR_INTS);
  } else if ('floats' in v) {
    for (const x of v.floats) w.float(7, x);
    w.int(20, ATTR_FLOATS);
  } else {
    w.float(2, v.float).int(20, ATTR_FLOAT);
  }
  return w.finish();
}

function nodeProto(n: NodeSpec, index: number): Uint8Array {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op}_${index}`);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attribute(k, v));
  return w.finish();
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

/** Serialises a ModelProto (IR 8, default domain opset 17). */
export function encodeModel(g: GraphSpec, opset = 17): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => graph.message(1, nodeProto(n, i)));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensorProto(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  const opsetId = new Writer().string(1, '').int(2, opset).finish();
  return new Writer()
    .int(1, 8) // ir_version
    .string(2, 'motion-i2v-web tests') // producer_name
    .message(7, graph.finish())
    .message(8, opsetId)
    .finish();
}
