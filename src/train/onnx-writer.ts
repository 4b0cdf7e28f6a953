/**
 * A small typed ONNX graph builder and serialiser.
 *
 * hubnlu writes its own models (no model hub, no Python on a hub), so it needs to
 * emit ONNX `ModelProto` bytes from TypeScript. The builder checks names as
 * they are added and hands plain objects to onnx-proto.ts, the module that
 * knows the protobuf wire format (and reads model files back). IR version 8,
 * which onnxruntime accepts with opset ≥ 13.
 *
 * Tensors are always written as little-endian `raw_data`, which onnxruntime
 * reads for every numeric type.
 */

import { DATA_TYPE as PROTO_TYPE, encodeModel, type OnnxAttributeValue, type OnnxModelProto, type OnnxTensor, type OnnxValueInfo } from './onnx-proto.js';

export type OnnxElemType = 'float32' | 'int8' | 'uint8' | 'int32' | 'int64';

/** TensorProto.DataType values of the element types the builder writes. */
const DATA_TYPE: Record<OnnxElemType, number> = {
  float32: PROTO_TYPE.float32,
  uint8: PROTO_TYPE.uint8,
  int8: PROTO_TYPE.int8,
  int32: PROTO_TYPE.int32,
  int64: PROTO_TYPE.int64,
};

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

function tensor(name: string, type: OnnxElemType, dims: readonly number[], data: TensorData): OnnxTensor {
  return { name, dataType: DATA_TYPE[type], dims: [...dims], raw: rawBytes(data) };
}

function valueInfo(v: ValueInfo): OnnxValueInfo {
  const dims = v.dims.map((d, i) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : `${v.name}_d${i}`));
  return { name: v.name, tensor: { elemType: DATA_TYPE[v.type], dims } };
}

function attribute(name: string, value: AttributeValue): OnnxAttributeValue {
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isInteger(value)) {
      throw new TypeError(`attribute ${name}: ${value} is not an integer; wrap it in float() for a FLOAT attribute`);
    }
    return { kind: 'int', value };
  }
  if (typeof value === 'string') return { kind: 'string', value: enc.encode(value) };
  if (Array.isArray(value)) {
    for (const v of value) {
      if (!Number.isInteger(v)) throw new TypeError(`attribute ${name}: ${v} is not an integer; use floats() for FLOATS`);
    }
    return { kind: 'ints', value: [...value] };
  }
  const v = value as Exclude<AttributeValue, number | bigint | string | readonly number[]>;
  if (v.kind === 'float') return { kind: 'float', value: v.value };
  if (v.kind === 'floats') return { kind: 'floats', value: [...v.value] };
  checkData(`attribute ${name}`, v.type, v.dims, v.data);
  return { kind: 'tensor', value: tensor('', v.type, v.dims, v.data) };
}

const enc = new TextEncoder();

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

  /** The model as plain objects (what `encodeModel` writes and `decodeModel` reads). */
  toProto(options: ToBytesOptions = {}): OnnxModelProto {
    if (this.outputs.length === 0) throw new Error('graph has no outputs; call output() first');
    return {
      irVersion: options.irVersion ?? 8,
      opsetImports: [{ domain: '', version: options.opset ?? 17 }],
      producerName: options.producerName ?? 'hubnlu',
      producerVersion: options.producerVersion ?? '',
      domain: '',
      modelVersion: 0,
      docString: options.docString ?? '',
      metadata: new Map(Object.entries(options.metadata ?? {})),
      graph: {
        name: this.name,
        nodes: this.nodes.map((n) => ({
          opType: n.opType,
          domain: n.domain,
          name: n.name,
          inputs: [...n.inputs],
          outputs: [...n.outputs],
          attributes: new Map(Object.entries(n.attrs).map(([k, v]) => [k, attribute(k, v)])),
        })),
        initializers: this.inits.map((t) => tensor(t.name, t.type, t.dims, t.data)),
        inputs: this.inputs.map(valueInfo),
        outputs: this.outputs.map(valueInfo),
        valueInfo: [],
      },
    };
  }

  toBytes(options: ToBytesOptions = {}): Uint8Array {
    return encodeModel(this.toProto(options));
  }
}
