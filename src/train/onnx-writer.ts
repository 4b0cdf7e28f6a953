/**
 * A small typed ONNX graph builder and serialiser.
 *
 * hubnlu writes its own models (no model hub, no Python on a hub), so it needs to
 * emit ONNX `ModelProto` bytes from TypeScript. Only the subset of onnx.proto
 * that our graphs use is encoded, by hand, as protobuf wire format: no .proto
 * file or code generator is needed, and the field numbers below are the ones
 * from onnx/onnx.proto (IR version 8, which onnxruntime accepts with opset ≥ 13).
 *
 * Tensors are always written as little-endian `raw_data`, which onnxruntime
 * reads for every numeric type.
 */

export type OnnxElemType = 'float32' | 'int8' | 'uint8' | 'int32' | 'int64';

/** TensorProto.DataType values (onnx.proto). */
const DATA_TYPE: Record<OnnxElemType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
};

/** AttributeProto.AttributeType values (onnx.proto). */
const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** Tensor data accepted for each element type. */
export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export type AttributeValue =
  | number // INT when an integer and not marked float; see `float()`
  | bigint
  | string
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | readonly number[] // INTS
  | { readonly kind: 'tensor'; readonly type: OnnxElemType; readonly dims: readonly number[]; readonly data: TensorData };

/** Marks a number attribute as FLOAT (plain numbers are INT when integral). */
export function float(value: number): AttributeValue {
  return { kind: 'float', value };
}
/** Marks a list attribute as FLOATS (plain number arrays are INTS). */
export function floats(value: readonly number[]): AttributeValue {
  return { kind: 'floats', value };
}
/** A tensor-valued attribute (e.g. for `Constant`). */
export function tensorAttr(type: OnnxElemType, dims: readonly number[], data: TensorData): AttributeValue {
  return { kind: 'tensor', type, dims, data };
}

/** A dimension: a fixed size, or -1 / a string for a symbolic (dynamic) one. */
export type Dim = number | string;

// ---------------------------------------------------------------------------
// Protobuf wire format

class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;
  length = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, this.buf.length * 2));
  }

  private flush(): void {
    if (this.pos > 0) {
      this.chunks.push(this.buf.slice(0, this.pos));
      this.pos = 0;
    }
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
    this.length++;
  }

  /** Unsigned or two's-complement varint (int64 semantics: negative numbers take 10 bytes). */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    if (x < 0x80n) {
      this.byte(Number(x));
      return;
    }
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  bytes(data: Uint8Array): void {
    this.flush();
    this.chunks.push(data);
    this.length += data.length;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

const enc = new TextEncoder();

/** A protobuf message under construction: fields appended in order. */
class Msg {
  readonly w = new Writer();

  int(field: number, v: number | bigint): this {
    this.w.tag(field, 0);
    this.w.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.w.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.w.bytes(b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.w.tag(field, 2);
    this.w.varint(data.length);
    this.w.bytes(data);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, enc.encode(s));
  }

  msg(field: number, m: Msg): this {
    return this.bytes(field, m.w.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

// ---------------------------------------------------------------------------
// Graph builder

interface ValueInfo {
  name: string;
  type: OnnxElemType;
  dims: readonly Dim[];
}

interface Initializer {
  name: string;
  type: OnnxElemType;
  dims: readonly number[];
  data: TensorData;
}

interface Node {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Record<string, AttributeValue>;
  name: string;
  domain: string;
}

const EXPECTED_ARRAY: Record<OnnxElemType, string> = {
  float32: 'Float32Array',
  int8: 'Int8Array',
  uint8: 'Uint8Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
};

function checkData(what: string, type: OnnxElemType, dims: readonly number[], data: TensorData): void {
  if (data.constructor.name !== EXPECTED_ARRAY[type]) {
    throw new TypeError(`${what}: type ${type} needs a ${EXPECTED_ARRAY[type]}, got ${data.constructor.name}`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new RangeError(`${what}: dims [${dims.join(', ')}] hold ${n} elements but the data has ${data.length}`);
  }
}

/** Little-endian bytes of a typed array (all supported hosts are little-endian, but do not assume it). */
function rawBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (littleEndian || data.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const k = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += k) for (let j = 0; j < k; j++) out[i + j] = bytes[i + k - 1 - j];
  return out;
}

function tensorProto(name: string, type: OnnxElemType, dims: readonly number[], data: TensorData): Msg {
  const t = new Msg();
  if (dims.length > 0) t.packedInts(1, dims); // dims
  t.int(2, DATA_TYPE[type]); // data_type
  if (name) t.string(8, name); // name
  t.bytes(9, rawBytes(data)); // raw_data
  return t;
}

function valueInfoProto(v: ValueInfo): Msg {
  const shape = new Msg();
  v.dims.forEach((d, i) => {
    const dim = new Msg();
    if (typeof d === 'number' && d >= 0) dim.int(1, d); // dim_value
    else dim.string(2, typeof d === 'string' ? d : `${v.name}_d${i}`); // dim_param
    shape.msg(1, dim);
  });
  const tensorType = new Msg().int(1, DATA_TYPE[v.type]).msg(2, shape); // elem_type, shape
  const type = new Msg().msg(1, tensorType); // TypeProto.tensor_type
  return new Msg().string(1, v.name).msg(2, type);
}

function attributeProto(name: string, value: AttributeValue): Msg {
  const a = new Msg().string(1, name);
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isInteger(value)) {
      throw new TypeError(`attribute ${name}: ${value} is not an integer; wrap it in float() for a FLOAT attribute`);
    }
    a.int(3, value).int(20, ATTR_TYPE.INT);
  } else if (typeof value === 'string') {
    a.string(4, value).int(20, ATTR_TYPE.STRING);
  } else if (Array.isArray(value)) {
    for (const v of value) {
      if (!Number.isInteger(v)) throw new TypeError(`attribute ${name}: ${v} is not an integer; use floats() for FLOATS`);
    }
    a.packedInts(8, value).int(20, ATTR_TYPE.INTS);
  } else {
    const v = value as Exclude<AttributeValue, number | bigint | string | readonly number[]>;
    if (v.kind === 'float') a.float(2, v.value).int(20, ATTR_TYPE.FLOAT);
    else if (v.kind === 'floats') a.packedFloats(7, v.value).int(20, ATTR_TYPE.FLOATS);
    else {
      checkData(`attribute ${name}`, v.type, v.dims, v.data);
      a.msg(5, tensorProto('', v.type, v.dims, v.data)).int(20, ATTR_TYPE.TENSOR);
    }
  }
  return a;
}

export interface ToBytesOptions {
  /** Default-domain opset version (default 17). */
  readonly opset?: number;
  /** ModelProto.ir_version (default 8: the IR of opset 17). */
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Stored as ModelProto.metadata_props (readable by onnxruntime's model metadata). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Builds one ONNX graph. Names are checked as they are added: every node input
 * must be a graph input, an initializer or an earlier node's output, so a typo
 * fails here with the name rather than inside onnxruntime.
 */
export class OnnxGraphBuilder {
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly inits: Initializer[] = [];
  private readonly nodes: Node[] = [];
  private readonly known = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'hubnlu') {}

  private define(name: string, what: string): void {
    if (!name) throw new Error(`${what}: empty name`);
    if (this.known.has(name)) throw new Error(`${what} "${name}": the name is already used in this graph`);
    this.known.add(name);
  }

  input(name: string, type: OnnxElemType, dims: readonly Dim[]): this {
    this.define(name, 'input');
    this.inputs.push({ name, type, dims });
    return this;
  }

  output(name: string, type: OnnxElemType, dims: readonly Dim[]): this {
    if (!this.known.has(name)) throw new Error(`output "${name}": no node produces it; add the node before declaring the output`);
    this.outputs.push({ name, type, dims });
    return this;
  }

  initializer(name: string, type: OnnxElemType, dims: readonly number[], data: TensorData): this {
    checkData(`initializer ${name}`, type, dims, data);
    this.define(name, 'initializer');
    this.inits.push({ name, type, dims, data });
    return this;
  }

  /** Adds a node; returns its first output name so chains read naturally. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    options: { name?: string; domain?: string } = {},
  ): string {
    for (const i of inputs) {
      // '' is ONNX's "optional input left out".
      if (i !== '' && !this.known.has(i)) {
        throw new Error(`node ${opType}: input "${i}" is not a graph input, initializer or earlier output`);
      }
    }
    for (const o of outputs) this.define(o, `node ${opType} output`);
    this.nodes.push({
      opType,
      inputs,
      outputs,
      attrs,
      name: options.name ?? `${opType}_${this.counter++}`,
      domain: options.domain ?? '',
    });
    return outputs[0];
  }

  /** Total bytes of initializer data (a lower bound on the file size). */
  get initializerBytes(): number {
    return this.inits.reduce((a, t) => a + t.data.byteLength, 0);
  }

  toBytes(options: ToBytesOptions = {}): Uint8Array {
    if (this.outputs.length === 0) throw new Error('graph has no outputs; call output() first');
    const graph = new Msg();
    for (const n of this.nodes) {
      const node = new Msg();
      for (const i of n.inputs) node.string(1, i);
      for (const o of n.outputs) node.string(2, o);
      node.string(3, n.name).string(4, n.opType);
      for (const [k, v] of Object.entries(n.attrs)) node.msg(5, attributeProto(k, v));
      if (n.domain) node.string(7, n.domain);
      graph.msg(1, node); // GraphProto.node
    }
    graph.string(2, this.name); // GraphProto.name
    for (const t of this.inits) graph.msg(5, tensorProto(t.name, t.type, t.dims, t.data)); // initializer
    for (const v of this.inputs) graph.msg(11, valueInfoProto(v)); // input
    for (const v of this.outputs) graph.msg(12, valueInfoProto(v)); // output

    const model = new Msg();
    model.int(1, options.irVersion ?? 8); // ir_version
    model.string(2, options.producerName ?? 'hubnlu'); // producer_name
    if (options.producerVersion) model.string(3, options.producerVersion); // producer_version
    if (options.docString) model.string(6, options.docString); // doc_string
    model.msg(7, graph); // graph
    model.msg(8, new Msg().string(1, '').int(2, options.opset ?? 17)); // opset_import
    for (const [k, v] of Object.entries(options.metadata ?? {})) {
      model.msg(14, new Msg().string(1, k).string(2, v)); // metadata_props
    }
    return model.finish();
  }
}
