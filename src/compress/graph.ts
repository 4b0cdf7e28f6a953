/**
 * Reading, indexing and editing a decoded ONNX model (onnx-proto.ts) for the
 * compressors: which node produces and which nodes consume a tensor, typed
 * views of initializers, and writing the result.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { DATA_TYPE, decodeModel, elementBytes, encodeModel, type OnnxModelProto, type OnnxNode, type OnnxTensor } from '../train/onnx-proto.js';

/** Reads and decodes a model file; errors name the file and what to do. */
export function readOnnxFile(path: string): OnnxModelProto {
  let bytes: Uint8Array;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new Error(`${path}: cannot read the model (${(err as Error).message})`);
  }
  return decodeModel(bytes, path);
}

export function writeOnnxFile(path: string, model: OnnxModelProto): number {
  const bytes = encodeModel(model);
  writeFileSync(path, bytes);
  return bytes.length;
}

/** Producer and consumers of every tensor name, and the initializers by name. */
export class GraphIndex {
  private constructor(
    readonly model: OnnxModelProto,
    readonly producer: Map<string, OnnxNode>,
    readonly consumers: Map<string, OnnxNode[]>,
    readonly initializers: Map<string, OnnxTensor>,
    readonly graphOutputs: Set<string>,
  ) {}

  /** Indexes the model as it is now (rebuild after rewriting nodes). */
  static of(model: OnnxModelProto): GraphIndex {
    const g = model.graph;
    const producer = new Map<string, OnnxNode>();
    const consumers = new Map<string, OnnxNode[]>();
    const initializers = new Map<string, OnnxTensor>();
    for (const t of g.initializers) initializers.set(t.name, t);
    for (const n of g.nodes) {
      for (const o of n.outputs) if (o) producer.set(o, n);
      for (const i of n.inputs) {
        if (!i) continue;
        const list = consumers.get(i);
        if (list) list.push(n);
        else consumers.set(i, [n]);
      }
    }
    return new GraphIndex(model, producer, consumers, initializers, new Set(g.outputs.map((o) => o.name)));
  }

  consumersOf(name: string): OnnxNode[] {
    return this.consumers.get(name) ?? [];
  }

  /** The initializer named `name`, if `name` is one (and not overridden by a graph input). */
  init(name: string): OnnxTensor | undefined {
    return this.initializers.get(name);
  }
}

/** A fresh name not used by any tensor or node in the model. */
export class NameAllocator {
  private constructor(private readonly used: Set<string>) {}

  static of(model: OnnxModelProto): NameAllocator {
    const used = new Set<string>();
    const g = model.graph;
    for (const t of g.initializers) used.add(t.name);
    for (const v of g.inputs) used.add(v.name);
    for (const n of g.nodes) {
      used.add(n.name);
      for (const x of [...n.inputs, ...n.outputs]) used.add(x);
    }
    return new NameAllocator(used);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

export function elementCount(t: OnnxTensor): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

/** A copy of a float32 tensor's values (raw bytes may be unaligned inside the file buffer). */
export function floatValues(t: OnnxTensor): Float32Array {
  if (t.dataType !== DATA_TYPE.float32) throw new Error(`tensor ${t.name}: expected float32, got data type ${t.dataType}`);
  return new Float32Array(t.raw.slice().buffer);
}

export function int8Values(t: OnnxTensor): Int8Array {
  if (t.dataType !== DATA_TYPE.int8) throw new Error(`tensor ${t.name}: expected int8, got data type ${t.dataType}`);
  return new Int8Array(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
}

export function int64Values(t: OnnxTensor): bigint[] {
  if (t.dataType !== DATA_TYPE.int64) throw new Error(`tensor ${t.name}: expected int64, got data type ${t.dataType}`);
  const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i < t.raw.length; i += 8) out.push(dv.getBigInt64(i, true));
  return out;
}

function bytesOf(data: Float32Array | Int8Array | Uint8Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function floatTensor(name: string, dims: number[], data: Float32Array): OnnxTensor {
  return { name, dataType: DATA_TYPE.float32, dims, raw: bytesOf(data) };
}
export function int8Tensor(name: string, dims: number[], data: Int8Array): OnnxTensor {
  return { name, dataType: DATA_TYPE.int8, dims, raw: bytesOf(data) };
}
export function uint8Tensor(name: string, dims: number[], data: Uint8Array): OnnxTensor {
  return { name, dataType: DATA_TYPE.uint8, dims, raw: data };
}
export function int64Tensor(name: string, dims: number[], values: readonly (number | bigint)[]): OnnxTensor {
  return { name, dataType: DATA_TYPE.int64, dims, raw: bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))) };
}

/** Weights: elements of floating-point and 8-bit initializers (shape and index constants are not parameters). */
export function parameterCount(model: OnnxModelProto): { total: number; nonzero: number } {
  let total = 0;
  let nonzero = 0;
  const counted = new Set<number>([DATA_TYPE.float32, DATA_TYPE.float16, DATA_TYPE.float64, DATA_TYPE.int8, DATA_TYPE.uint8, DATA_TYPE.bfloat16]);
  for (const t of model.graph.initializers) {
    if (!counted.has(t.dataType)) continue;
    const n = elementCount(t);
    total += n;
    const size = elementBytes(t.dataType);
    const raw = t.raw;
    for (let i = 0; i < raw.length; i += size) {
      let zero = true;
      for (let k = 0; k < size; k++) {
        // -0.0 counts as zero too (only the sign bit set).
        const b = raw[i + k];
        if (b !== 0 && !(k === size - 1 && b === 0x80 && size > 1)) {
          zero = false;
          break;
        }
      }
      if (!zero) nonzero++;
    }
  }
  return { total, nonzero };
}

/** Drops initializers nothing reads any more (after nodes were rewritten). */
export function removeUnusedInitializers(model: OnnxModelProto): void {
  const used = new Set<string>();
  for (const n of model.graph.nodes) for (const i of n.inputs) used.add(i);
  for (const o of model.graph.outputs) used.add(o.name);
  const before = new Set(model.graph.initializers.map((t) => t.name));
  model.graph.initializers = model.graph.initializers.filter((t) => used.has(t.name));
  const after = new Set(model.graph.initializers.map((t) => t.name));
  // Graph inputs that shadowed a removed initializer (IR < 4 files list them) go with it.
  model.graph.inputs = model.graph.inputs.filter((v) => !(before.has(v.name) && !after.has(v.name)));
  // value_info of tensors that are gone would only confuse a reader.
  const names = new Set<string>(after);
  for (const n of model.graph.nodes) for (const o of n.outputs) names.add(o);
  model.graph.valueInfo = model.graph.valueInfo.filter((v) => names.has(v.name));
}

/** The default-domain opset version the model imports. */
export function defaultOpset(model: OnnxModelProto): number {
  return model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
}

/** Sorts nodes so every node comes after the producers of its inputs (needed after inserting nodes). */
export function topologicalSort(model: OnnxModelProto): void {
  const g = model.graph;
  const available = new Set<string>([...g.initializers.map((t) => t.name), ...g.inputs.map((v) => v.name), '']);
  const pending = [...g.nodes];
  const out: OnnxNode[] = [];
  const waiting = new Map<string, OnnxNode[]>();
  const missing = new Map<OnnxNode, number>();
  const ready: OnnxNode[] = [];
  for (const n of pending) {
    const need = new Set(n.inputs.filter((i) => !available.has(i)));
    missing.set(n, need.size);
    if (need.size === 0) ready.push(n);
    for (const i of need) {
      const list = waiting.get(i);
      if (list) list.push(n);
      else waiting.set(i, [n]);
    }
  }
  // Keep the original order among ready nodes (stable output, small diffs).
  const order = new Map(pending.map((n, i) => [n, i]));
  while (ready.length > 0) {
    ready.sort((a, b) => order.get(a)! - order.get(b)!);
    const n = ready.shift()!;
    out.push(n);
    for (const o of n.outputs) {
      if (available.has(o)) continue;
      available.add(o);
      for (const w of waiting.get(o) ?? []) {
        const left = missing.get(w)! - 1;
        missing.set(w, left);
        if (left === 0) ready.push(w);
      }
    }
  }
  if (out.length !== pending.length) throw new Error('graph has a cycle or a node reads a tensor nothing produces');
  g.nodes = out;
}
