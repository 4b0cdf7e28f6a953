/**
 * Pruning of any ONNX model, in TypeScript.
 *
 * - Unstructured (`sparsity`): in every MatMul/Gemm weight (float32, or int8
 *   with zero point 0), the smallest-magnitude share `sparsity` of the
 *   elements is set to zero (per tensor, so layers of different scale each
 *   keep their largest weights). The matrices keep their shape: the file
 *   shrinks only once compressed, and dense kernels run no faster, so this is
 *   the step before quantisation or a sparse runtime, not a speed-up by itself.
 * - Attention heads (`heads`): in every attention block the graph lets us
 *   see — query/key/value MatMuls (+ bias) whose outputs are reshaped by a
 *   constant [.., .., heads, headDim] shape and meet again in one reshape by a
 *   constant [.., .., hidden] shape before the output MatMul — the `heads`
 *   least important heads (smallest squared norm of their query, key, value
 *   columns and output rows) are removed: the matrices really shrink.
 * - Feed-forward rows (`ffn`): in every block MatMul(W1 [h, I]) (+ bias) →
 *   element-wise activation (GELU as Erf/Mul/Add, Relu, Tanh, …) → MatMul(W2
 *   [I, h']), the share `ffn` of the I intermediate units with the smallest
 *   ‖W1 column‖·‖W2 row‖ is removed from W1, the bias and W2.
 * Structured pruning reads float32 weights: prune first, then quantise.
 */
import { DATA_TYPE, type OnnxModelProto, type OnnxNode, type OnnxTensor } from '../train/onnx-proto.js';
import { elementCount, floatTensor, floatValues, GraphIndex, int64Tensor, int64Values, int8Values, NameAllocator, removeUnusedInitializers } from './graph.js';

export interface PruneModelOptions {
  /** Unstructured magnitude pruning: share of each weight matrix set to zero, in [0, 1). */
  readonly sparsity?: number;
  /** Attention heads to remove from every attention block. */
  readonly heads?: number;
  /** Share of feed-forward intermediate units to remove from every block, in [0, 1). */
  readonly ffn?: number;
}

export interface PruneSummary {
  readonly unstructured: { tensors: number; zeroed: number; elements: number } | null;
  readonly heads: { blocks: number; removedPerBlock: number; headsBefore: number; headsAfter: number } | null;
  readonly ffn: { blocks: number; unitsBefore: number; unitsAfter: number } | null;
}

const FLOAT = DATA_TYPE.float32;

export function checkPruneOptions(o: PruneModelOptions): void {
  if (o.sparsity !== undefined && !(o.sparsity >= 0 && o.sparsity < 1)) throw new RangeError(`--sparsity: expected a number in [0, 1), got ${o.sparsity}`);
  if (o.ffn !== undefined && !(o.ffn >= 0 && o.ffn < 1)) throw new RangeError(`--ffn: expected a share in [0, 1), got ${o.ffn}`);
  if (o.heads !== undefined && !(Number.isInteger(o.heads) && o.heads >= 0)) throw new RangeError(`--heads: expected a whole number of heads ≥ 0, got ${o.heads}`);
  if (o.sparsity === undefined && o.heads === undefined && o.ffn === undefined) throw new RangeError('nothing to prune: give --sparsity, --heads or --ffn');
}

/** Prunes `model` in place (structured first, then unstructured); returns what it changed. */
export function pruneModel(model: OnnxModelProto, options: PruneModelOptions): PruneSummary {
  checkPruneOptions(options);
  const heads = options.heads ? pruneHeads(model, options.heads) : null;
  const ffn = options.ffn ? pruneFfn(model, options.ffn) : null;
  const unstructured = options.sparsity ? pruneMagnitude(model, options.sparsity) : null;
  if (heads || ffn) {
    // Shapes changed: recorded intermediate shapes would now be wrong.
    model.graph.valueInfo = [];
  }
  removeUnusedInitializers(model);
  return { unstructured, heads, ffn };
}

// ---------------------------------------------------------------------------
// Unstructured

/** Names of the weight initializers of MatMul, Gemm, MatMulInteger and weight DequantizeLinear nodes. */
function weightNames(model: OnnxModelProto, idx: GraphIndex): Set<string> {
  const out = new Set<string>();
  for (const n of model.graph.nodes) {
    const w = n.opType === 'MatMul' || n.opType === 'Gemm' || n.opType === 'MatMulInteger' ? n.inputs[1] : n.opType === 'DequantizeLinear' ? n.inputs[0] : undefined;
    const t = w ? idx.init(w) : undefined;
    if (t && t.dims.length === 2) out.add(t.name);
  }
  return out;
}

/** Zeroes the `share` smallest |values| in place; returns how many are zero afterwards that were not before. */
export function zeroSmallest(values: Float32Array | Int8Array, share: number): number {
  const n = values.length;
  const k = Math.floor(share * n);
  if (k === 0) return 0;
  const mags = new Float32Array(n);
  for (let i = 0; i < n; i++) mags[i] = Math.abs(values[i]);
  const sorted = mags.slice().sort();
  const threshold = sorted[k - 1];
  let below = 0;
  for (let i = 0; i < n; i++) if (mags[i] < threshold) below++;
  let tiesLeft = k - below;
  let zeroed = 0;
  for (let i = 0; i < n; i++) {
    if (mags[i] < threshold || (mags[i] === threshold && tiesLeft-- > 0)) {
      if (values[i] !== 0) zeroed++;
      values[i] = 0;
    }
  }
  return zeroed;
}

function pruneMagnitude(model: OnnxModelProto, sparsity: number): { tensors: number; zeroed: number; elements: number } {
  const idx = GraphIndex.of(model);
  let tensors = 0;
  let zeroed = 0;
  let elements = 0;
  for (const name of weightNames(model, idx)) {
    const t = idx.init(name)!;
    if (t.dataType === FLOAT) {
      const v = floatValues(t);
      zeroed += zeroSmallest(v, sparsity);
      t.raw = new Uint8Array(v.buffer);
    } else if (t.dataType === DATA_TYPE.int8) {
      // int8 weights here are symmetric (zero point 0), so q = 0 is a zero weight.
      const v = Int8Array.from(int8Values(t));
      zeroed += zeroSmallest(v, sparsity);
      t.raw = new Uint8Array(v.buffer);
    } else continue;
    tensors++;
    elements += elementCount(t);
  }
  return { tensors, zeroed, elements };
}

// ---------------------------------------------------------------------------
// Slicing helpers

function keepColumns(w: Float32Array, rows: number, cols: number, keep: readonly number[]): Float32Array {
  const out = new Float32Array(rows * keep.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < keep.length; j++) out[r * keep.length + j] = w[r * cols + keep[j]];
  return out;
}

function keepRows(w: Float32Array, cols: number, keep: readonly number[]): Float32Array {
  const out = new Float32Array(keep.length * cols);
  keep.forEach((r, i) => out.set(w.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}

/** Replaces initializer input `i` of `node` with a new tensor (a fresh name: the old one may be shared). */
function replaceInput(model: OnnxModelProto, names: NameAllocator, node: OnnxNode, i: number, make: (name: string) => OnnxTensor): void {
  const t = make(names.fresh(node.inputs[i]));
  model.graph.initializers.push(t);
  node.inputs[i] = t.name;
}

const isFloatInit = (idx: GraphIndex, name: string | undefined, rank: number): OnnxTensor | undefined => {
  const t = name ? idx.init(name) : undefined;
  return t && t.dataType === FLOAT && t.dims.length === rank ? t : undefined;
};

// ---------------------------------------------------------------------------
// Attention heads

interface Projection {
  matmul: OnnxNode;
  add?: OnnxNode;
  biasIndex: number;
  reshape: OnnxNode;
  x: string;
  headDim: number;
}

interface AttentionBlock {
  projections: Projection[];
  merge: OnnxNode;
  out: OnnxNode;
  heads: number;
  headDim: number;
}

function findAttention(model: OnnxModelProto, idx: GraphIndex): AttentionBlock[] {
  const projections: Projection[] = [];
  for (const r of model.graph.nodes) {
    if (r.opType !== 'Reshape') continue;
    const shape = idx.init(r.inputs[1]);
    if (!shape || shape.dataType !== DATA_TYPE.int64 || elementCount(shape) !== 4) continue;
    const s = int64Values(shape).map(Number);
    const headDim = s[3];
    if (headDim <= 0) continue;
    let src = idx.producer.get(r.inputs[0]);
    let add: OnnxNode | undefined;
    let biasIndex = -1;
    if (src?.opType === 'Add') {
      const bi = src.inputs.findIndex((i) => isFloatInit(idx, i, 1));
      if (bi < 0) continue;
      add = src;
      biasIndex = bi;
      src = idx.producer.get(src.inputs[1 - bi]);
    }
    if (!src || src.opType !== 'MatMul') continue;
    const w = isFloatInit(idx, src.inputs[1], 2);
    if (!w || w.dims[1] % headDim !== 0) continue;
    if (s[2] > 0 && s[2] * headDim !== w.dims[1]) continue;
    projections.push({ matmul: src, add, biasIndex, reshape: r, x: src.inputs[0], headDim });
  }
  // Group by input: query, key and value read the same tensor.
  const groups = new Map<string, Projection[]>();
  for (const p of projections) groups.set(p.x, [...(groups.get(p.x) ?? []), p]);
  const blocks: AttentionBlock[] = [];
  for (const group of groups.values()) {
    if (group.length !== 3) continue;
    const merges = group.map((p) => findMerge(idx, p.reshape.outputs[0]));
    const m = merges[0];
    if (!m || merges.some((x) => x !== m)) continue;
    const outs = idx.consumersOf(m.outputs[0]);
    const wq = idx.init(group[0].matmul.inputs[1])!;
    const hOut = wq.dims[1];
    if (outs.length !== 1 || outs[0].opType !== 'MatMul' || outs[0].inputs[0] !== m.outputs[0]) continue;
    const wo = isFloatInit(idx, outs[0].inputs[1], 2);
    if (!wo || wo.dims[0] !== hOut || group.some((p) => idx.init(p.matmul.inputs[1])!.dims[1] !== hOut || p.headDim !== group[0].headDim)) continue;
    blocks.push({ projections: group, merge: m, out: outs[0], heads: hOut / group[0].headDim, headDim: group[0].headDim });
  }
  return blocks;
}

/** The first Reshape by a constant 3-element shape downstream of `start` (within a few nodes). */
function findMerge(idx: GraphIndex, start: string): OnnxNode | undefined {
  const seen = new Set<string>();
  let frontier = [start];
  for (let depth = 0; depth < 8 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const n of idx.consumersOf(t)) {
        if (n.opType === 'Reshape' && n.inputs[0] === t) {
          const s = idx.init(n.inputs[1]);
          if (s && s.dataType === DATA_TYPE.int64 && elementCount(s) === 3) return n;
        }
        for (const o of n.outputs) if (!seen.has(o)) {
          seen.add(o);
          next.push(o);
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

function pruneHeads(model: OnnxModelProto, remove: number): PruneSummary['heads'] {
  const idx = GraphIndex.of(model);
  const names = NameAllocator.of(model);
  const blocks = findAttention(model, idx);
  if (blocks.length === 0) {
    throw new Error('--heads: found no attention block whose head count the graph states as a constant (query/key/value MatMul → Reshape by a constant [.., .., heads, headDim] shape); this graph computes its shapes at run time, so heads cannot be removed from it: use --ffn or --sparsity');
  }
  const headsBefore = blocks[0].heads;
  for (const b of blocks) {
    if (remove >= b.heads) throw new RangeError(`--heads ${remove}: an attention block (${b.out.name || b.out.outputs[0]}) has only ${b.heads} heads; remove fewer`);
    const dh = b.headDim;
    const h = b.heads * dh;
    const score = new Float64Array(b.heads);
    const ws = b.projections.map((p) => floatValues(idx.init(p.matmul.inputs[1])!));
    const inDim = idx.init(b.projections[0].matmul.inputs[1])!.dims[0];
    for (const w of ws) for (let r = 0; r < inDim; r++) for (let c = 0; c < h; c++) score[Math.floor(c / dh)] += w[r * h + c] ** 2;
    const wo = floatValues(idx.init(b.out.inputs[1])!);
    const outDim = idx.init(b.out.inputs[1])!.dims[1];
    for (let r = 0; r < h; r++) for (let c = 0; c < outDim; c++) score[Math.floor(r / dh)] += wo[r * outDim + c] ** 2;
    const order = [...score.keys()].sort((x, y) => score[x] - score[y]);
    const dropped = new Set(order.slice(0, remove));
    const keepHeads = [...score.keys()].filter((j) => !dropped.has(j));
    const keep = keepHeads.flatMap((j) => Array.from({ length: dh }, (_, c) => j * dh + c));
    const newHeads = keepHeads.length;
    b.projections.forEach((p, i) => {
      replaceInput(model, names, p.matmul, 1, (n) => floatTensor(n, [inDim, keep.length], keepColumns(ws[i], inDim, h, keep)));
      if (p.add) {
        const bias = floatValues(idx.init(p.add.inputs[p.biasIndex])!);
        replaceInput(model, names, p.add, p.biasIndex, (n) => floatTensor(n, [keep.length], Float32Array.from(keep, (k) => bias[k])));
      }
      const s = int64Values(idx.init(p.reshape.inputs[1])!).map(Number);
      if (s[2] > 0) s[2] = newHeads;
      replaceInput(model, names, p.reshape, 1, (n) => int64Tensor(n, [4], s));
    });
    replaceInput(model, names, b.out, 1, (n) => floatTensor(n, [keep.length, outDim], keepRows(wo, outDim, keep)));
    const ms = int64Values(idx.init(b.merge.inputs[1])!).map(Number);
    if (ms[2] > 0) ms[2] = keep.length;
    replaceInput(model, names, b.merge, 1, (n) => int64Tensor(n, [3], ms));
  }
  return { blocks: blocks.length, removedPerBlock: remove, headsBefore, headsAfter: headsBefore - remove };
}

// ---------------------------------------------------------------------------
// Feed-forward units

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Erf', 'Tanh', 'Relu', 'Sigmoid', 'Gelu', 'FastGelu', 'BiasGelu', 'Pow', 'Neg', 'Abs', 'Sqrt', 'LeakyRelu', 'Elu', 'Softplus', 'HardSigmoid', 'Clip', 'Identity']);

interface FfnBlock {
  up: OnnxNode;
  /** Initializer inputs of shape [I] along the chain (biases), as [node, input index]. */
  vectors: [OnnxNode, number][];
  downs: OnnxNode[];
  units: number;
}

function findFfn(model: OnnxModelProto, idx: GraphIndex): FfnBlock[] {
  const blocks: FfnBlock[] = [];
  for (const up of model.graph.nodes) {
    if (up.opType !== 'MatMul') continue;
    const w1 = isFloatInit(idx, up.inputs[1], 2);
    if (!w1) continue;
    const units = w1.dims[1];
    const chainTensors = new Set<string>([up.outputs[0]]);
    const chainNodes = new Set<OnnxNode>();
    const vectors: [OnnxNode, number][] = [];
    const downs: OnnxNode[] = [];
    let ok = true;
    const queue = [up.outputs[0]];
    while (queue.length > 0 && ok) {
      const t = queue.shift()!;
      if (idx.graphOutputs.has(t)) ok = false;
      for (const c of idx.consumersOf(t)) {
        if (chainNodes.has(c) || downs.includes(c)) continue;
        if (c.opType === 'MatMul' && c.inputs[0] === t && c.inputs[1] !== t) {
          const w2 = isFloatInit(idx, c.inputs[1], 2);
          if (!w2 || w2.dims[0] !== units) ok = false;
          else downs.push(c);
          continue;
        }
        if (!ELEMENTWISE.has(c.opType)) {
          ok = false;
          break;
        }
        chainNodes.add(c);
        c.inputs.forEach((i, k) => {
          const init = idx.init(i);
          if (init) {
            const n = elementCount(init);
            if (n === units && init.dims[init.dims.length - 1] === units && init.dataType === FLOAT) vectors.push([c, k]);
            else if (n !== 1) ok = false;
          }
        });
        for (const o of c.outputs) {
          chainTensors.add(o);
          queue.push(o);
        }
      }
    }
    if (!ok || downs.length === 0) continue;
    // Every non-constant input of a chain node must come from the chain.
    for (const c of chainNodes) for (const i of c.inputs) if (i && !idx.init(i) && !chainTensors.has(i)) ok = false;
    if (ok) blocks.push({ up, vectors, downs, units });
  }
  return blocks;
}

function pruneFfn(model: OnnxModelProto, share: number): PruneSummary['ffn'] {
  const idx = GraphIndex.of(model);
  const names = NameAllocator.of(model);
  const blocks = findFfn(model, idx);
  if (blocks.length === 0) {
    throw new Error('--ffn: found no feed-forward block (MatMul with a float32 weight → element-wise activation → MatMul with a float32 weight); a quantised model cannot be pruned this way: prune the fp32 model, then quantise it');
  }
  let before = 0;
  let after = 0;
  for (const b of blocks) {
    const w1t = idx.init(b.up.inputs[1])!;
    const inDim = w1t.dims[0];
    const I = b.units;
    const w1 = floatValues(w1t);
    const score = new Float64Array(I);
    for (let r = 0; r < inDim; r++) for (let c = 0; c < I; c++) score[c] += w1[r * I + c] ** 2;
    const downW = b.downs.map((d) => ({ t: idx.init(d.inputs[1])!, v: floatValues(idx.init(d.inputs[1])!) }));
    const down2 = new Float64Array(I);
    for (const { t, v } of downW) {
      const cols = t.dims[1];
      for (let r = 0; r < I; r++) for (let c = 0; c < cols; c++) down2[r] += v[r * cols + c] ** 2;
    }
    for (let j = 0; j < I; j++) score[j] = Math.sqrt(score[j] * down2[j]);
    const remove = Math.min(I - 1, Math.floor(share * I));
    const dropped = new Set([...score.keys()].sort((x, y) => score[x] - score[y]).slice(0, remove));
    const keep = [...score.keys()].filter((j) => !dropped.has(j));
    replaceInput(model, names, b.up, 1, (n) => floatTensor(n, [inDim, keep.length], keepColumns(w1, inDim, I, keep)));
    for (const [node, k] of b.vectors) {
      const t = idx.init(node.inputs[k])!;
      const v = floatValues(t);
      replaceInput(model, names, node, k, (n) => floatTensor(n, [...t.dims.slice(0, -1), keep.length], Float32Array.from(keep, (j) => v[j])));
    }
    b.downs.forEach((d, i) => {
      const cols = downW[i].t.dims[1];
      replaceInput(model, names, d, 1, (n) => floatTensor(n, [keep.length, cols], keepRows(downW[i].v, cols, keep)));
    });
    before += I;
    after += keep.length;
  }
  return { blocks: blocks.length, unitsBefore: before, unitsAfter: after };
}
