/**
 * The inputs and outputs an .onnx file declares (names, element types, dimensions), read from
 * the protobuf without ONNX Runtime and without loading the file into memory: the install
 * checks a pack's files against its manifest before anything is compiled, and a file may be
 * close to 2 GB. Only the graph's `input`/`output` ValueInfos are decoded; nodes and
 * initializers (the weights) are skipped by their length, so a few small reads cover a file.
 *
 * Wire format (onnx.proto3): ModelProto.graph = 7 -> GraphProto.initializer = 5, input = 11,
 * output = 12 -> ValueInfoProto.name = 1, type = 2 -> TypeProto.tensor_type = 1 ->
 * Tensor.elem_type = 1, shape = 2 -> TensorShapeProto.dim = 1 -> dim_value = 1 | dim_param = 2.
 * Files of IR version < 4 also list their initializers as graph inputs: those are left out, as
 * ONNX Runtime does.
 */
import type { SessionSignature, ValueMetadata } from './signature';

/** TensorProto.DataType -> the names ORT's metadata uses. */
const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

/** The file is not an ONNX model (or is cut short). */
export class OnnxFormatError extends Error {
  constructor(problem: string) {
    super(`not a readable ONNX model: ${problem}`);
    this.name = 'OnnxFormatError';
  }
}

/** Random access to a Blob through a cached window, so walking many small fields costs few reads. */
class BlobReader {
  private start = 0;
  private bytes = new Uint8Array(0);
  constructor(
    private readonly blob: Blob,
    private readonly window = 1 << 20,
  ) {}
  get size(): number {
    return this.blob.size;
  }
  /** Bytes [offset, offset + length) (clipped at the end of the file). */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.blob.size, offset + length);
    if (offset < this.start || end > this.start + this.bytes.length) {
      const to = Math.min(this.blob.size, offset + Math.max(length, this.window));
      this.bytes = new Uint8Array(await this.blob.slice(offset, to).arrayBuffer());
      this.start = offset;
    }
    return this.bytes.subarray(offset - this.start, end - this.start);
  }
}

/** A varint at `pos` of `b`: its value and the position after it. */
function varint(b: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new OnnxFormatError('the file ends inside a field');
    const byte = b[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new OnnxFormatError('a varint is longer than 10 bytes');
}

interface Field {
  field: number;
  wire: number;
  /** Varint fields: the value; length-delimited: the payload's length. */
  value: number;
  /** Where the payload starts (length-delimited) and where the next field starts. */
  payload: number;
  next: number;
}

/** The field at `pos` of an in-memory message. */
function fieldAt(b: Uint8Array, pos: number): Field {
  const [tag, p] = varint(b, pos);
  const field = Math.floor(tag / 8);
  const wire = tag & 7;
  if (wire === 0) {
    const [value, next] = varint(b, p);
    return { field, wire, value, payload: p, next };
  }
  if (wire === 1) return { field, wire, value: 0, payload: p, next: p + 8 };
  if (wire === 5) return { field, wire, value: 0, payload: p, next: p + 4 };
  if (wire === 2) {
    const [len, q] = varint(b, p);
    return { field, wire, value: len, payload: q, next: q + len };
  }
  throw new OnnxFormatError(`unsupported wire type ${wire}`);
}

/** Every field of the in-memory message `b`. */
function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  for (let pos = 0; pos < b.length; ) {
    const f = fieldAt(b, pos);
    if (f.next > b.length) throw new OnnxFormatError('a field runs past its message');
    out.push(f);
    pos = f.next;
  }
  return out;
}

const text = new TextDecoder();
const sub = (b: Uint8Array, f: Field) => b.subarray(f.payload, f.next);

function valueInfo(b: Uint8Array): ValueMetadata {
  let name = '';
  let type: Uint8Array | null = null;
  for (const f of fields(b)) {
    if (f.field === 1 && f.wire === 2) name = text.decode(sub(b, f));
    else if (f.field === 2 && f.wire === 2) type = sub(b, f);
  }
  const tensor = type ? fields(type).find((f) => f.field === 1 && f.wire === 2) : undefined;
  if (!type || !tensor) return { name, isTensor: false };
  const t = sub(type, tensor);
  let elem = 0;
  let shape: (number | string)[] | undefined;
  for (const f of fields(t)) {
    if (f.field === 1 && f.wire === 0) elem = f.value;
    else if (f.field === 2 && f.wire === 2) {
      const s = sub(t, f);
      shape = fields(s)
        .filter((d) => d.field === 1 && d.wire === 2)
        .map((d) => {
          const dim = sub(s, d);
          for (const g of fields(dim)) {
            if (g.field === 1 && g.wire === 0) return g.value;
            if (g.field === 2 && g.wire === 2) return text.decode(sub(dim, g));
          }
          return ''; // unknown dimension: symbolic
        });
    }
  }
  return { name, isTensor: true, type: ELEM_TYPES[elem] ?? `onnx type ${elem}`, ...(shape ? { shape } : {}) };
}

/** The header of a field of a message held in the file, read at `pos`. */
async function fieldIn(r: BlobReader, pos: number): Promise<Field & { absolute: number }> {
  const head = await r.read(pos, 20);
  const f = fieldAt(head, 0);
  return { ...f, payload: pos + f.payload, next: pos + f.next, absolute: pos };
}

/** Name (field 8) of a TensorProto stored at [start, end) of the file, skipping its data. */
async function tensorName(r: BlobReader, start: number, end: number): Promise<string | null> {
  for (let pos = start; pos < end; ) {
    const f = await fieldIn(r, pos);
    if (f.field === 8 && f.wire === 2) return text.decode(await r.read(f.payload, f.value));
    pos = f.next;
  }
  return null;
}

/** The graph inputs and outputs `file` declares. Throws OnnxFormatError when it is no ONNX model. */
export async function readOnnxSignature(file: Blob): Promise<SessionSignature> {
  const r = new BlobReader(file);
  let graph: { start: number; end: number } | null = null;
  let irVersion = 0;
  for (let pos = 0; pos < r.size; ) {
    const f = await fieldIn(r, pos);
    if (f.next > r.size) throw new OnnxFormatError('the file is cut short');
    if (f.field === 1 && f.wire === 0) irVersion = f.value;
    if (f.field === 7 && f.wire === 2) graph = { start: f.payload, end: f.next };
    pos = f.next;
  }
  if (!graph) throw new OnnxFormatError('it has no graph');
  const inputs: ValueMetadata[] = [];
  const outputs: ValueMetadata[] = [];
  const initializers = new Set<string>();
  for (let pos = graph.start; pos < graph.end; ) {
    const f = await fieldIn(r, pos);
    if (f.next > graph.end) throw new OnnxFormatError('a graph field runs past the graph');
    if (f.wire === 2 && (f.field === 11 || f.field === 12)) {
      const info = valueInfo(await r.read(f.payload, f.value));
      (f.field === 11 ? inputs : outputs).push(info);
    } else if (f.wire === 2 && f.field === 5 && irVersion < 4) {
      const name = await tensorName(r, f.payload, f.next);
      if (name) initializers.add(name);
    }
    pos = f.next;
  }
  const graphInputs = inputs.filter((i) => !initializers.has(i.name));
  return {
    inputNames: graphInputs.map((i) => i.name),
    outputNames: outputs.map((o) => o.name),
    inputMetadata: graphInputs,
    outputMetadata: outputs,
  };
}
