/**
 * Before/after measurements for `hubnlu quantize` and `hubnlu prune`: size,
 * parameters, load time, p50/p99 latency on a fixed input set, top-1
 * agreement and the largest logit difference against the original model.
 *
 * The fixed input set is made from the original graph and a seed, so the
 * same inputs go through both models: BERT-style inputs (`input_ids`,
 * `attention_mask`, `token_type_ids`) get token ids below the vocabulary size
 * (the rows of the embedding table they index) in a few sequence lengths,
 * hubnlu's own classifiers (`ids`, `inv_count`) get feature rows and 1 / count,
 * and any other input gets indices below the table it indexes, or values in
 * [-1, 1) when it indexes none.
 */
import { statSync } from 'node:fs';
import { mulberry32 } from '../data/random.js';
import { DATA_TYPE, type OnnxModelProto, type OnnxValueInfo } from '../train/onnx-proto.js';
import { OnnxModel, type FeedValue } from '../model/onnx-backend.js';
import { GraphIndex, parameterCount } from './graph.js';

export type InputSet = Record<string, FeedValue>[];

export interface InputSetOptions {
  readonly count?: number;
  readonly seed?: number;
  /** Sequence lengths to cycle through (capped by the model's position table). */
  readonly lengths?: readonly number[];
}

/** Rows of the table that `input` indexes through a Gather (following Cast/Reshape/Unsqueeze), if any. */
function indexedRows(idx: GraphIndex, input: string): number | undefined {
  const seen = new Set<string>();
  const queue = [input];
  let best: number | undefined;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const n of idx.consumersOf(name)) {
      if (n.opType === 'Gather' && n.inputs[1] === name) {
        const t = idx.init(n.inputs[0]);
        if (t && t.dims.length >= 1) best = best === undefined ? t.dims[0] : Math.min(best, t.dims[0]);
      } else if (['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten'].includes(n.opType) && n.inputs[0] === name) {
        queue.push(n.outputs[0]);
      }
    }
  }
  return best;
}

/** The longest sequence the model takes: rows of a position-embedding table, if it has one. */
function maxPositions(model: OnnxModelProto): number {
  const t = model.graph.initializers.find((i) => /position/i.test(i.name) && i.dims.length === 2);
  return t ? t.dims[0] : Infinity;
}

function dimsFor(v: OnnxValueInfo, len: number): number[] {
  const dims = v.tensor?.dims ?? [len];
  // The first symbolic dim of a 2-D input is the batch (1); the others take the sequence length.
  return dims.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 && dims.length > 1 ? 1 : len));
}

function feed(elemType: number, dims: number[], value: (i: number) => number): FeedValue {
  const n = dims.reduce((a, b) => a * b, 1);
  if (elemType === DATA_TYPE.int64) return { type: 'int64', data: BigInt64Array.from({ length: n }, (_, i) => BigInt(value(i))), dims };
  if (elemType === DATA_TYPE.int32) return { type: 'int32', data: Int32Array.from({ length: n }, (_, i) => value(i)), dims };
  if (elemType === DATA_TYPE.float32) return { type: 'float32', data: Float32Array.from({ length: n }, (_, i) => value(i)), dims };
  throw new Error(`input element type ${elemType} is not supported by the measurement (int64, int32 and float32 are)`);
}

export function makeInputSet(model: OnnxModelProto, options: InputSetOptions = {}): InputSet {
  const idx = GraphIndex.of(model);
  const rand = mulberry32(options.seed ?? 12);
  const cap = maxPositions(model);
  const lengths = (options.lengths ?? [8, 16, 32, 64]).map((l) => Math.min(l, cap));
  const inits = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((v) => !inits.has(v.name));
  const set: InputSet = [];
  for (let k = 0; k < (options.count ?? 48); k++) {
    const len = lengths[k % lengths.length];
    const feeds: Record<string, FeedValue> = {};
    const ids = inputs.find((v) => v.name === 'ids');
    for (const v of inputs) {
      const type = v.tensor?.elemType ?? DATA_TYPE.float32;
      const dims = dimsFor(v, len);
      const name = v.name;
      if (name === 'attention_mask') feeds[name] = feed(type, dims, () => 1);
      else if (name === 'token_type_ids') {
        const half = Math.floor(dims[dims.length - 1] / 2);
        feeds[name] = feed(type, dims, (i) => (k % 2 === 1 && i % dims[dims.length - 1] >= half ? 1 : 0));
      } else if (name === 'inv_count' && ids) feeds[name] = feed(type, dims, () => 1 / dimsFor(ids, len)[0]);
      else if (type === DATA_TYPE.int64 || type === DATA_TYPE.int32) {
        const rows = indexedRows(idx, name) ?? 2;
        feeds[name] = feed(type, dims, () => Math.floor(rand() * rows));
      } else feeds[name] = feed(type, dims, () => rand() * 2 - 1);
    }
    set.push(feeds);
  }
  return set;
}

export interface RunResult {
  readonly loadMs: number;
  readonly latencies: number[];
  /** The compared output of each input (`logits`, else the first output). */
  readonly outputs: { data: Float32Array; dims: readonly number[] }[];
  readonly outputName: string;
}

/** Loads a model file and runs the input set (single-threaded, as the agent runs models), after `warmup` untimed runs. */
export async function runInputSet(path: string, inputs: InputSet, options: { warmup?: number } = {}): Promise<RunResult> {
  const t0 = performance.now();
  const model = await OnnxModel.load(path);
  const loadMs = performance.now() - t0;
  try {
    const outputName = model.outputNames.includes('logits') ? 'logits' : model.outputNames[0];
    for (let i = 0; i < (options.warmup ?? 3) && inputs.length > 0; i++) await model.run(inputs[i % inputs.length]);
    const latencies: number[] = [];
    const outputs: { data: Float32Array; dims: readonly number[] }[] = [];
    for (const feeds of inputs) {
      const s = performance.now();
      const out = await model.run(feeds);
      latencies.push(performance.now() - s);
      const o = out[outputName];
      outputs.push({ data: Float32Array.from(o.data), dims: o.dims });
    }
    return { loadMs, latencies, outputs, outputName };
  } finally {
    await model.dispose();
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Top-1 agreement (argmax over the last axis, every row of every output) and the largest |difference|. */
export function compareOutputs(a: RunResult['outputs'], b: RunResult['outputs']): { agreement: number; rows: number; maxDiff: number } {
  if (a.length !== b.length) throw new Error(`compared ${a.length} outputs with ${b.length}`);
  let same = 0;
  let rows = 0;
  let maxDiff = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (x.data.length !== y.data.length) throw new Error(`output ${k}: ${x.data.length} values before, ${y.data.length} after; the models' outputs differ in shape`);
    const width = x.dims.length > 0 ? x.dims[x.dims.length - 1] : 1;
    for (let off = 0; off < x.data.length; off += width) {
      let ax = 0;
      let ay = 0;
      for (let i = 1; i < width; i++) {
        if (x.data[off + i] > x.data[off + ax]) ax = i;
        if (y.data[off + i] > y.data[off + ay]) ay = i;
      }
      if (ax === ay) same++;
      rows++;
    }
    for (let i = 0; i < x.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x.data[i] - y.data[i]));
  }
  return { agreement: rows > 0 ? same / rows : 1, rows, maxDiff };
}

export interface ModelStats {
  readonly file: string;
  readonly bytes: number;
  readonly parameters: number;
  readonly nonzeroParameters: number;
  readonly loadMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface Comparison {
  readonly before: ModelStats;
  readonly after: ModelStats;
  readonly inputs: number;
  readonly output: string;
  /** Share of rows whose top-1 class is the same in both models. */
  readonly top1Agreement: number;
  readonly rows: number;
  readonly maxLogitDiff: number;
}

function stats(file: string, model: OnnxModelProto, r: RunResult): ModelStats {
  const p = parameterCount(model);
  return {
    file,
    bytes: statSync(file).size,
    parameters: p.total,
    nonzeroParameters: p.nonzero,
    loadMs: r.loadMs,
    p50Ms: percentile(r.latencies, 50),
    p99Ms: percentile(r.latencies, 99),
  };
}

/** Runs both files on the input set made from `beforeModel`, alternating so load on the machine hits both alike. */
export async function compareModels(
  beforeFile: string,
  beforeModel: OnnxModelProto,
  afterFile: string,
  afterModel: OnnxModelProto,
  options: InputSetOptions & { rounds?: number } = {},
): Promise<Comparison> {
  const inputs = makeInputSet(beforeModel, options);
  const rounds = Math.max(1, options.rounds ?? 2);
  let a: RunResult | undefined;
  let b: RunResult | undefined;
  const merge = (prev: RunResult | undefined, next: RunResult): RunResult =>
    prev ? { ...prev, loadMs: Math.min(prev.loadMs, next.loadMs), latencies: prev.latencies.map((l, i) => Math.min(l, next.latencies[i])) } : next;
  for (let r = 0; r < rounds; r++) {
    a = merge(a, await runInputSet(beforeFile, inputs));
    b = merge(b, await runInputSet(afterFile, inputs));
  }
  const cmp = compareOutputs(a!.outputs, b!.outputs);
  return {
    before: stats(beforeFile, beforeModel, a!),
    after: stats(afterFile, afterModel, b!),
    inputs: inputs.length,
    output: a!.outputName,
    top1Agreement: cmp.agreement,
    rows: cmp.rows,
    maxLogitDiff: cmp.maxDiff,
  };
}
