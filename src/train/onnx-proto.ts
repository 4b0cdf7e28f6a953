/**
 * ONNX `ModelProto` ⇄ plain objects: the one module that knows the protobuf
 * wire format and onnx.proto's field numbers (the writer's graph builder and
 * the compressors both go through it).
 *
 * Hand-rolled rather than generated: only the subset of onnx.proto that model
 * files use is needed, and no .proto file, code generator or dependency comes
 * with it. What is covered:
 *   - ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 *     ValueInfoProto (tensor types with fixed or symbolic dims), opset imports,
 *     metadata_props;
 *   - tensors in `raw_data` or in the typed fields (`float_data`, `int32_data`,
 *     `int64_data`, `double_data`, `uint64_data`), packed or not; decoded
 *     tensors always hold little-endian raw bytes and are written back as
 *     `raw_data` (onnxruntime reads it for every numeric type);
 *   - fields this module does not model (a node's `metadata_props`, a graph's
 *     `quantization_annotation`, a model's `training_info`, …) are kept as raw
 *     bytes and written back unchanged, so a read-write round trip loses nothing.
 * What is refused with an error that says so: tensors stored in an external
 * data file, string tensors, sparse initializers, subgraph attributes
 * (If/Loop/Scan) and model-local functions.
 */

// ---------------------------------------------------------------------------
// onnx.proto constants

/** TensorProto.DataType values. */
export const DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;

export type DataTypeName = keyof typeof DATA_TYPE;

/** Bytes per element for the numeric data types. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export function dataTypeName(t: number): string {
  return (Object.entries(DATA_TYPE).find(([, v]) => v === t)?.[0] ?? `type ${t}`);
}

export function elementBytes(dataType: number): number {
  const b = ELEMENT_BYTES[dataType];
  if (b === undefined) throw new Error(`ONNX tensor data type ${dataTypeName(dataType)} is not supported (numeric types only)`);
  return b;
}

/** AttributeProto.AttributeType values. */
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

/** Field numbers (onnx.proto) of the messages this module reads and writes. */
export const FIELD = {
  model: { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6, graph: 7, opsetImport: 8, metadataProps: 14, functions: 25 },
  opset: { domain: 1, version: 2 },
  stringEntry: { key: 1, value: 2 },
  graph: { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13, sparseInitializer: 15 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6, domain: 7 },
  attribute: { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, strings: 9, tensors: 10, graphs: 11, type: 20 },
  tensor: { dims: 1, dataType: 2, floatData: 4, int32Data: 5, stringData: 6, int64Data: 7, name: 8, rawData: 9, doubleData: 10, uint64Data: 11, docString: 12, externalData: 13, dataLocation: 14 },
  valueInfo: { name: 1, type: 2, docString: 3 },
  typeProto: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1, param: 2 },
} as const;

// ---------------------------------------------------------------------------
// The decoded model

/** A tensor: little-endian bytes of `dataType` elements, row-major. */
export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array;
  docString?: string;
  unknown?: RawField[];
}

/** A dimension: a size, a symbolic name, or null when the file leaves it unnamed. */
export type OnnxDim = number | string | null;

export interface OnnxValueInfo {
  name: string;
  /** Tensor element type and shape (dims null: the shape is not given). */
  tensor?: { elemType: number; dims: OnnxDim[] | null };
  /** A non-tensor TypeProto (sequence, map, …), kept as its bytes. */
  typeRaw?: Uint8Array;
  docString?: string;
}

export type OnnxAttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number | bigint }
  | { kind: 'string'; value: Uint8Array }
  | { kind: 'tensor'; value: OnnxTensor }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: (number | bigint)[] }
  | { kind: 'strings'; value: Uint8Array[] }
  | { kind: 'tensors'; value: OnnxTensor[] };

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttributeValue>;
  docString?: string;
  unknown?: RawField[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  docString?: string;
  unknown?: RawField[];
}

export interface OnnxModelProto {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  metadata: Map<string, string>;
  graph: OnnxGraph;
  unknown?: RawField[];
}

/** A field kept verbatim: its number, wire type and encoded value. */
export interface RawField {
  field: number;
  wireType: number;
  data: Uint8Array;
}

// ---------------------------------------------------------------------------
// Wire format: writing

export class Writer {
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
    if (typeof v === 'number' && v >= 0 && v < 0x80000000) {
      let x = v;
      while (x >= 0x80) {
        this.byte((x & 0x7f) | 0x80);
        x >>>= 7;
      }
      this.byte(x);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  /** Appends bytes without copying them (large tensors stay where they are until `finish`). */
  bytes(data: Uint8Array): void {
    this.flush();
    this.chunks.push(data);
    this.length += data.length;
  }

  /** Appends another writer's bytes, sharing its chunks (nested messages are not copied level by level). */
  append(other: Writer): void {
    this.flush();
    other.flush();
    for (const c of other.chunks) this.chunks.push(c);
    this.length += other.length;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
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
export class Msg {
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
    // Nested messages: the length prefix, then the inner chunks (no copy of large tensors).
    const inner = m.w;
    this.w.tag(field, 2);
    this.w.varint(inner.length);
    this.w.append(inner);
    return this;
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

  raw(f: RawField): this {
    this.w.tag(f.field, f.wireType);
    if (f.wireType === 2) this.w.varint(f.data.length);
    this.w.bytes(f.data);
    return this;
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

// ---------------------------------------------------------------------------
// Wire format: reading

const dec = new TextDecoder('utf-8', { fatal: false });

/** One field as read: `value` for varints, `data` for the others. */
interface Field {
  field: number;
  wireType: number;
  value: bigint;
  data: Uint8Array;
}

export class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private fail(why: string): never {
    throw new Error(`${this.what}: not a valid ONNX protobuf (${why} at byte ${this.pos})`);
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A varint that fits in a JavaScript number (lengths, tags, small enums). */
  small(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    this.pos -= 8;
    const big = this.varint();
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('length too large');
    return Number(big);
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) this.fail(`field of ${n} bytes runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  next(): Field {
    const tag = this.small();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 0) this.fail('field number 0');
    switch (wireType) {
      case 0:
        return { field, wireType, value: this.varint(), data: EMPTY };
      case 1:
        return { field, wireType, value: 0n, data: this.take(8) };
      case 2:
        return { field, wireType, value: 0n, data: this.take(this.small()) };
      case 5:
        return { field, wireType, value: 0n, data: this.take(4) };
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }
}

const EMPTY = new Uint8Array(0);

function fields(buf: Uint8Array, what: string): Field[] {
  const r = new Reader(buf, what);
  const out: Field[] = [];
  while (!r.done) out.push(r.next());
  return out;
}

function toRaw(f: Field): RawField {
  if (f.wireType !== 0) return { field: f.field, wireType: f.wireType, data: f.data };
  const w = new Writer();
  w.varint(f.value);
  return { field: f.field, wireType: 0, data: w.finish() };
}

const str = (f: Field): string => dec.decode(f.data);

/** int64 semantics: values ≥ 2^63 are negative. */
function int64(v: bigint): number | bigint {
  const s = BigInt.asIntN(64, v);
  return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
}

/** Repeated varint field, packed (wire type 2) or not (0). */
function varints(f: Field, what: string): bigint[] {
  if (f.wireType === 0) return [f.value];
  const r = new Reader(f.data, what);
  const out: bigint[] = [];
  while (!r.done) out.push(r.varint());
  return out;
}

function float32s(f: Field): number[] {
  const dv = new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= f.data.length; i += 4) out.push(dv.getFloat32(i, true));
  return out;
}

// ---------------------------------------------------------------------------
// Decoding

function decodeTensor(buf: Uint8Array, what: string): OnnxTensor {
  const t: OnnxTensor = { name: '', dataType: 0, dims: [], raw: EMPTY };
  let raw: Uint8Array | null = null;
  const floatData: Field[] = [];
  const intData: Field[] = [];
  const int64Data: Field[] = [];
  const doubleData: Field[] = [];
  const uint64Data: Field[] = [];
  let external = false;
  let strings = false;
  const F = FIELD.tensor;
  for (const f of fields(buf, what)) {
    switch (f.field) {
      case F.dims:
        for (const d of varints(f, what)) t.dims.push(Number(BigInt.asIntN(64, d)));
        break;
      case F.dataType:
        t.dataType = Number(f.value);
        break;
      case F.name:
        t.name = str(f);
        break;
      case F.rawData:
        raw = f.data;
        break;
      case F.floatData:
        floatData.push(f);
        break;
      case F.int32Data:
        intData.push(f);
        break;
      case F.int64Data:
        int64Data.push(f);
        break;
      case F.doubleData:
        doubleData.push(f);
        break;
      case F.uint64Data:
        uint64Data.push(f);
        break;
      case F.stringData:
        strings = true;
        break;
      case F.docString:
        t.docString = str(f);
        break;
      case F.externalData:
        external = true;
        break;
      case F.dataLocation:
        if (f.value === 1n) external = true;
        break;
      default:
        (t.unknown ??= []).push(toRaw(f));
    }
  }
  const label = `${what}: tensor ${t.name ? `"${t.name}"` : '(unnamed)'}`;
  if (external) {
    throw new Error(`${label} keeps its data in an external file; hubnlu reads single-file models: save the model with its weights inside (in Python: onnx.save(model, path, save_as_external_data=False)), at most 2 GB`);
  }
  if (strings || t.dataType === DATA_TYPE.string) throw new Error(`${label} is a string tensor; hubnlu's ONNX reader handles numeric tensors only`);
  const size = elementBytes(t.dataType);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (raw !== null) {
    t.raw = raw;
  } else {
    t.raw = typedFieldsToRaw(t.dataType, size, n, { floatData, intData, int64Data, doubleData, uint64Data }, label);
  }
  if (t.raw.length !== n * size) {
    throw new Error(`${label}: dims [${t.dims.join(', ')}] of ${dataTypeName(t.dataType)} need ${n * size} bytes but it holds ${t.raw.length}`);
  }
  return t;
}

function typedFieldsToRaw(
  dataType: number,
  size: number,
  n: number,
  d: { floatData: Field[]; intData: Field[]; int64Data: Field[]; doubleData: Field[]; uint64Data: Field[] },
  label: string,
): Uint8Array {
  const out = new Uint8Array(n * size);
  const dv = new DataView(out.buffer);
  let i = 0;
  const put = (write: (offset: number) => void): void => {
    if (i >= n) throw new Error(`${label}: holds more values than its dims allow`);
    write(i * size);
    i++;
  };
  if (dataType === DATA_TYPE.float32) {
    for (const f of d.floatData) {
      if (f.wireType === 5) put((o) => out.set(f.data, o));
      else for (let k = 0; k + 4 <= f.data.length; k += 4) put((o) => out.set(f.data.subarray(k, k + 4), o));
    }
  } else if (dataType === DATA_TYPE.float64) {
    for (const f of d.doubleData) {
      if (f.wireType === 1) put((o) => out.set(f.data, o));
      else for (let k = 0; k + 8 <= f.data.length; k += 8) put((o) => out.set(f.data.subarray(k, k + 8), o));
    }
  } else if (dataType === DATA_TYPE.int64) {
    for (const f of d.int64Data) for (const v of varints(f, label)) put((o) => dv.setBigInt64(o, BigInt.asIntN(64, v), true));
  } else if (dataType === DATA_TYPE.uint32 || dataType === DATA_TYPE.uint64) {
    for (const f of d.uint64Data) {
      for (const v of varints(f, label)) put((o) => (size === 8 ? dv.setBigUint64(o, v, true) : dv.setUint32(o, Number(v), true)));
    }
  } else {
    // int32_data carries int32, int16, uint16, int8, uint8, bool, float16 and bfloat16 (as bit patterns).
    for (const f of d.intData) {
      for (const v of varints(f, label)) {
        const x = Number(BigInt.asIntN(32, v));
        put((o) => {
          if (size === 4) dv.setInt32(o, x, true);
          else if (size === 2) dv.setUint16(o, x & 0xffff, true);
          else dv.setUint8(o, x & 0xff);
        });
      }
    }
  }
  if (i !== n) throw new Error(`${label}: dims ask for ${n} values but it holds ${i}`);
  return out;
}

function decodeValueInfo(buf: Uint8Array, what: string): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '' };
  for (const f of fields(buf, what)) {
    if (f.field === FIELD.valueInfo.name) v.name = str(f);
    else if (f.field === FIELD.valueInfo.docString) v.docString = str(f);
    else if (f.field === FIELD.valueInfo.type) {
      const typeFields = fields(f.data, what);
      const tensorField = typeFields.find((t) => t.field === FIELD.typeProto.tensorType);
      if (!tensorField || typeFields.length !== 1) {
        v.typeRaw = f.data;
        continue;
      }
      let elemType = 0;
      let dims: OnnxDim[] | null = null;
      for (const tf of fields(tensorField.data, what)) {
        if (tf.field === FIELD.tensorType.elemType) elemType = Number(tf.value);
        else if (tf.field === FIELD.tensorType.shape) {
          dims = [];
          for (const sf of fields(tf.data, what)) {
            if (sf.field !== FIELD.shape.dim) continue;
            let dim: OnnxDim = null;
            for (const df of fields(sf.data, what)) {
              if (df.field === FIELD.dim.value) dim = Number(BigInt.asIntN(64, df.value));
              else if (df.field === FIELD.dim.param) dim = str(df);
            }
            dims.push(dim);
          }
        }
      }
      v.tensor = { elemType, dims };
    }
  }
  return v;
}

function decodeAttribute(buf: Uint8Array, what: string): [string, OnnxAttributeValue] {
  const A = FIELD.attribute;
  let name = '';
  let type = 0;
  const seen = new Map<number, Field[]>();
  for (const f of fields(buf, what)) {
    if (f.field === A.name) name = str(f);
    else if (f.field === A.type) type = Number(f.value);
    else seen.set(f.field, [...(seen.get(f.field) ?? []), f]);
  }
  const label = `${what}: attribute "${name}"`;
  if (type === 0) {
    // Files from before `type` existed: infer it from the field that is set.
    const order: [number, number][] = [[A.f, ATTR_TYPE.FLOAT], [A.i, ATTR_TYPE.INT], [A.s, ATTR_TYPE.STRING], [A.t, ATTR_TYPE.TENSOR], [A.g, ATTR_TYPE.GRAPH], [A.floats, ATTR_TYPE.FLOATS], [A.ints, ATTR_TYPE.INTS], [A.strings, ATTR_TYPE.STRINGS], [A.tensors, ATTR_TYPE.TENSORS], [A.graphs, ATTR_TYPE.GRAPHS]];
    type = order.find(([field]) => seen.has(field))?.[1] ?? 0;
  }
  const one = (field: number): Field | undefined => seen.get(field)?.at(-1);
  const all = (field: number): Field[] => seen.get(field) ?? [];
  switch (type) {
    case ATTR_TYPE.FLOAT: {
      const f = one(A.f);
      return [name, { kind: 'float', value: f ? new DataView(f.data.buffer, f.data.byteOffset, 4).getFloat32(0, true) : 0 }];
    }
    case ATTR_TYPE.INT:
      return [name, { kind: 'int', value: int64(one(A.i)?.value ?? 0n) }];
    case ATTR_TYPE.STRING:
      return [name, { kind: 'string', value: one(A.s)?.data ?? EMPTY }];
    case ATTR_TYPE.TENSOR: {
      const f = one(A.t);
      if (!f) throw new Error(`${label}: a TENSOR attribute without a tensor`);
      return [name, { kind: 'tensor', value: decodeTensor(f.data, label) }];
    }
    case ATTR_TYPE.FLOATS:
      return [name, { kind: 'floats', value: all(A.floats).flatMap(float32s) }];
    case ATTR_TYPE.INTS:
      return [name, { kind: 'ints', value: all(A.ints).flatMap((f) => varints(f, label)).map(int64) }];
    case ATTR_TYPE.STRINGS:
      return [name, { kind: 'strings', value: all(A.strings).map((f) => f.data) }];
    case ATTR_TYPE.TENSORS:
      return [name, { kind: 'tensors', value: all(A.tensors).map((f) => decodeTensor(f.data, label)) }];
    case ATTR_TYPE.GRAPH:
    case ATTR_TYPE.GRAPHS:
      throw new Error(`${label} is a subgraph (If/Loop/Scan); hubnlu's ONNX reader handles graphs without control flow`);
    default:
      throw new Error(`${label}: unknown attribute type ${type}`);
  }
}

function decodeNode(buf: Uint8Array, what: string): OnnxNode {
  const n: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: new Map() };
  const F = FIELD.node;
  const attrs: Field[] = [];
  for (const f of fields(buf, what)) {
    if (f.field === F.input) n.inputs.push(str(f));
    else if (f.field === F.output) n.outputs.push(str(f));
    else if (f.field === F.name) n.name = str(f);
    else if (f.field === F.opType) n.opType = str(f);
    else if (f.field === F.domain) n.domain = str(f);
    else if (f.field === F.docString) n.docString = str(f);
    else if (f.field === F.attribute) attrs.push(f);
    else (n.unknown ??= []).push(toRaw(f));
  }
  const label = `${what}: node ${n.name || n.opType}`;
  for (const f of attrs) {
    const [k, v] = decodeAttribute(f.data, label);
    n.attributes.set(k, v);
  }
  return n;
}

function decodeGraph(buf: Uint8Array, what: string): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  const F = FIELD.graph;
  for (const f of fields(buf, what)) {
    switch (f.field) {
      case F.node:
        g.nodes.push(decodeNode(f.data, what));
        break;
      case F.name:
        g.name = str(f);
        break;
      case F.initializer:
        g.initializers.push(decodeTensor(f.data, what));
        break;
      case F.input:
        g.inputs.push(decodeValueInfo(f.data, what));
        break;
      case F.output:
        g.outputs.push(decodeValueInfo(f.data, what));
        break;
      case F.valueInfo:
        g.valueInfo.push(decodeValueInfo(f.data, what));
        break;
      case F.docString:
        g.docString = str(f);
        break;
      case F.sparseInitializer:
        throw new Error(`${what}: the graph has sparse initializers; hubnlu's ONNX reader handles dense tensors only`);
      default:
        (g.unknown ??= []).push(toRaw(f));
    }
  }
  return g;
}

/**
 * Decodes a model file's bytes. `what` names the file in errors. Large
 * tensors are views into `bytes` (no copy): keep `bytes` unchanged while the
 * model is in use.
 */
export function decodeModel(bytes: Uint8Array, what = 'ONNX model'): OnnxModelProto {
  const m: OnnxModelProto = {
    irVersion: 0,
    opsetImports: [],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] },
  };
  const F = FIELD.model;
  let graphSeen = false;
  for (const f of fields(bytes, what)) {
    switch (f.field) {
      case F.irVersion:
        m.irVersion = Number(f.value);
        break;
      case F.producerName:
        m.producerName = str(f);
        break;
      case F.producerVersion:
        m.producerVersion = str(f);
        break;
      case F.domain:
        m.domain = str(f);
        break;
      case F.modelVersion:
        m.modelVersion = Number(f.value);
        break;
      case F.docString:
        m.docString = str(f);
        break;
      case F.graph:
        m.graph = decodeGraph(f.data, what);
        graphSeen = true;
        break;
      case F.opsetImport: {
        let domain = '';
        let version = 0;
        for (const o of fields(f.data, what)) {
          if (o.field === FIELD.opset.domain) domain = str(o);
          else if (o.field === FIELD.opset.version) version = Number(o.value);
        }
        m.opsetImports.push({ domain, version });
        break;
      }
      case F.metadataProps: {
        let key = '';
        let value = '';
        for (const o of fields(f.data, what)) {
          if (o.field === FIELD.stringEntry.key) key = str(o);
          else if (o.field === FIELD.stringEntry.value) value = str(o);
        }
        m.metadata.set(key, value);
        break;
      }
      case F.functions:
        throw new Error(`${what}: the model defines local functions; hubnlu's ONNX reader handles plain graphs (export with functions inlined)`);
      default:
        (m.unknown ??= []).push(toRaw(f));
    }
  }
  if (!graphSeen || m.irVersion === 0) throw new Error(`${what}: not an ONNX model (no ${graphSeen ? 'ir_version' : 'graph'})`);
  return m;
}

// ---------------------------------------------------------------------------
// Encoding

export function encodeTensor(t: OnnxTensor): Msg {
  const F = FIELD.tensor;
  const m = new Msg();
  if (t.dims.length > 0) m.packedInts(F.dims, t.dims);
  m.int(F.dataType, t.dataType);
  if (t.name) m.string(F.name, t.name);
  m.bytes(F.rawData, t.raw);
  if (t.docString) m.string(F.docString, t.docString);
  for (const u of t.unknown ?? []) m.raw(u);
  return m;
}

export function encodeValueInfo(v: OnnxValueInfo): Msg {
  const m = new Msg().string(FIELD.valueInfo.name, v.name);
  if (v.tensor) {
    const tensorType = new Msg().int(FIELD.tensorType.elemType, v.tensor.elemType);
    if (v.tensor.dims) {
      const shape = new Msg();
      for (const d of v.tensor.dims) {
        const dim = new Msg();
        if (typeof d === 'number') dim.int(FIELD.dim.value, d);
        else if (typeof d === 'string') dim.string(FIELD.dim.param, d);
        shape.msg(FIELD.shape.dim, dim);
      }
      tensorType.msg(FIELD.tensorType.shape, shape);
    }
    m.msg(FIELD.valueInfo.type, new Msg().msg(FIELD.typeProto.tensorType, tensorType));
  } else if (v.typeRaw) {
    m.bytes(FIELD.valueInfo.type, v.typeRaw);
  }
  if (v.docString) m.string(FIELD.valueInfo.docString, v.docString);
  return m;
}

export function encodeAttribute(name: string, a: OnnxAttributeValue): Msg {
  const A = FIELD.attribute;
  const m = new Msg().string(A.name, name);
  switch (a.kind) {
    case 'float':
      return m.float(A.f, a.value).int(A.type, ATTR_TYPE.FLOAT);
    case 'int':
      return m.int(A.i, a.value).int(A.type, ATTR_TYPE.INT);
    case 'string':
      return m.bytes(A.s, a.value).int(A.type, ATTR_TYPE.STRING);
    case 'tensor':
      return m.msg(A.t, encodeTensor(a.value)).int(A.type, ATTR_TYPE.TENSOR);
    case 'floats':
      return m.packedFloats(A.floats, a.value).int(A.type, ATTR_TYPE.FLOATS);
    case 'ints':
      return m.packedInts(A.ints, a.value).int(A.type, ATTR_TYPE.INTS);
    case 'strings':
      for (const s of a.value) m.bytes(A.strings, s);
      return m.int(A.type, ATTR_TYPE.STRINGS);
    case 'tensors':
      for (const t of a.value) m.msg(A.tensors, encodeTensor(t));
      return m.int(A.type, ATTR_TYPE.TENSORS);
  }
}

function encodeNode(n: OnnxNode): Msg {
  const F = FIELD.node;
  const m = new Msg();
  for (const i of n.inputs) m.string(F.input, i);
  for (const o of n.outputs) m.string(F.output, o);
  if (n.name) m.string(F.name, n.name);
  m.string(F.opType, n.opType);
  for (const [k, v] of n.attributes) m.msg(F.attribute, encodeAttribute(k, v));
  if (n.docString) m.string(F.docString, n.docString);
  if (n.domain) m.string(F.domain, n.domain);
  for (const u of n.unknown ?? []) m.raw(u);
  return m;
}

function encodeGraph(g: OnnxGraph): Msg {
  const F = FIELD.graph;
  const m = new Msg();
  for (const n of g.nodes) m.msg(F.node, encodeNode(n));
  m.string(F.name, g.name);
  for (const t of g.initializers) m.msg(F.initializer, encodeTensor(t));
  if (g.docString) m.string(F.docString, g.docString);
  for (const v of g.inputs) m.msg(F.input, encodeValueInfo(v));
  for (const v of g.outputs) m.msg(F.output, encodeValueInfo(v));
  for (const v of g.valueInfo) m.msg(F.valueInfo, encodeValueInfo(v));
  for (const u of g.unknown ?? []) m.raw(u);
  return m;
}

/** The file bytes of a model. */
export function encodeModel(model: OnnxModelProto): Uint8Array {
  const F = FIELD.model;
  const m = new Msg();
  m.int(F.irVersion, model.irVersion);
  if (model.producerName) m.string(F.producerName, model.producerName);
  if (model.producerVersion) m.string(F.producerVersion, model.producerVersion);
  if (model.domain) m.string(F.domain, model.domain);
  if (model.modelVersion) m.int(F.modelVersion, model.modelVersion);
  if (model.docString) m.string(F.docString, model.docString);
  m.msg(F.graph, encodeGraph(model.graph));
  for (const o of model.opsetImports) m.msg(F.opsetImport, new Msg().string(FIELD.opset.domain, o.domain).int(FIELD.opset.version, o.version));
  for (const [k, v] of model.metadata) m.msg(F.metadataProps, new Msg().string(FIELD.stringEntry.key, k).string(FIELD.stringEntry.value, v));
  for (const u of model.unknown ?? []) m.raw(u);
  return m.finish();
}
