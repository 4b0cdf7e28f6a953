/**
 * Micro-batched inference for hubnlu's own graphs (issue 10), without
 * retraining or re-exporting a model file.
 *
 * A sentence classifier file (src/train/export.ts) takes one sentence: `ids`
 * int32 [n] and `inv_count` float32 [1]. At load time the runtime rewrites
 * that graph in memory into a batched one with the same weights:
 *
 *   ids    int32   [batch, len]   feature rows, padded with row 0
 *   weight float32 [batch, len]   1 / the sentence's feature count at its
 *                                 positions, 0 at padding
 *   logits float32 [batch, classes]
 *
 * int8 (what `train-defaults` ships): Gather int8 rows [b, l, dim] → Cast;
 * Gather their scales [b, l] × weight → Unsqueeze [b, 1, l] → batched MatMul
 * → [b, 1, dim] → Squeeze → [b, dim] → the file's own head, unchanged.
 * fp32: Gather rows [b, l, dim] × weight [b, l, 1] → ReduceSum(axis 1) → head.
 * Padding contributes row 0 with weight 0, so each sentence's logits are what
 * the single-sentence graph gives it (test/model/batch-graph.test.ts checks
 * that on the shipped files).
 *
 * A file that does not have exactly one of these shapes (a newer writer,
 * another producer) is left alone: `batchClassifierGraph` returns null and
 * the caller runs one sentence per call, as before.
 *
 * The slot tagger's graph (src/train/tagger.ts) is row-wise already (each
 * token's feature row → its scores), so a batch is the sentences' tokens
 * concatenated; `isRowWiseTagger` checks a file really is.
 */
import { DATA_TYPE, decodeModel, encodeModel, type OnnxAttributeValue, type OnnxModelProto, type OnnxNode } from '../train/onnx-proto.js';

export const BATCH_INPUTS = { ids: 'ids', weight: 'weight' } as const;

const AXES1 = 'hubnlu_batch_axes1';
const AXES2 = 'hubnlu_batch_axes2';

function int64Tensor(name: string, values: readonly bigint[]) {
  return { name, dataType: DATA_TYPE.int64, dims: [values.length], raw: new Uint8Array(BigInt64Array.from(values).buffer) };
}

function node(opType: string, inputs: string[], outputs: string[], attributes: Array<[string, OnnxAttributeValue]> = []): OnnxNode {
  return { opType, domain: '', name: `hubnlu_batch_${outputs[0]}`, inputs, outputs, attributes: new Map(attributes) };
}

/** The one node that reads `name` (undefined when none or several do). */
function soleConsumer(nodes: readonly OnnxNode[], name: string): OnnxNode | undefined {
  const readers = nodes.filter((n) => n.inputs.includes(name));
  return readers.length === 1 ? readers[0] : undefined;
}

/** The value an `axes` initializer holds, if it is one int64. */
function scalarAxes(model: OnnxModelProto, name: string): bigint | undefined {
  const t = model.graph.initializers.find((i) => i.name === name);
  if (!t || t.dataType !== DATA_TYPE.int64 || t.raw.byteLength !== 8) return undefined;
  return new DataView(t.raw.buffer, t.raw.byteOffset, 8).getBigInt64(0, true);
}

function isDefaultDomain(n: OnnxNode): boolean {
  return n.domain === '' || n.domain === 'ai.onnx';
}

/**
 * The decoded file when this module may rewrite it, else null: it decodes, it imports opset 13 or later
 * (Unsqueeze/Squeeze/ReduceSum take `axes` as an input from 13 on; export.ts writes 17), and every node is in the
 * default domain.
 */
function decodeRewritable(bytes: Uint8Array, what: string): OnnxModelProto | null {
  let model: OnnxModelProto;
  try {
    model = decodeModel(bytes, what);
  } catch {
    return null;
  }
  const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  return opset >= 13 && model.graph.nodes.every(isDefaultDomain) ? model : null;
}

/**
 * The batched form of a single-sentence classifier file, or null when the file
 * is not one this function knows (the caller then runs one sentence per call).
 */
export function batchClassifierGraph(bytes: Uint8Array, what = 'classifier'): Uint8Array | null {
  const model = decodeRewritable(bytes, what);
  if (!model) return null;
  const g = model.graph;
  const ids = g.inputs.find((i) => i.name === 'ids');
  const inv = g.inputs.find((i) => i.name === 'inv_count');
  if (g.inputs.length !== 2 || !ids || !inv || ids.tensor?.elemType !== DATA_TYPE.int32 || ids.tensor.dims?.length !== 1) return null;
  if (g.outputs.length !== 1 || g.outputs[0].name !== 'logits' || g.outputs[0].tensor?.dims?.length !== 2) return null;
  const idReaders = g.nodes.filter((n) => n.inputs.includes('ids'));
  const invReader = soleConsumer(g.nodes, 'inv_count');
  if (!invReader || invReader.opType !== 'Mul' || !idReaders.every((n) => n.opType === 'Gather' && n.inputs[1] === 'ids')) return null;

  const nodes = [...g.nodes];
  const replace = (old: OnnxNode, ...by: OnnxNode[]) => nodes.splice(nodes.indexOf(old), 1, ...by);
  if (idReaders.length === 2) {
    // int8: Gather(emb_q) → Cast → rows_f; Gather(emb_scale) → row_scale; Mul(row_scale, inv_count) → Unsqueeze(axes 0) → MatMul(·, rows_f) → h0.
    const scaleGather = idReaders.find((n) => soleConsumer(g.nodes, n.outputs[0]) === invReader);
    const rowsGather = idReaders.find((n) => n !== scaleGather);
    if (!scaleGather || !rowsGather) return null;
    const cast = soleConsumer(g.nodes, rowsGather.outputs[0]);
    const unsq = soleConsumer(g.nodes, invReader.outputs[0]);
    if (cast?.opType !== 'Cast' || unsq?.opType !== 'Unsqueeze' || scalarAxes(model, unsq.inputs[1]) !== 0n) return null;
    const matmul = soleConsumer(g.nodes, unsq.outputs[0]);
    if (matmul?.opType !== 'MatMul' || matmul.inputs[0] !== unsq.outputs[0] || matmul.inputs[1] !== cast.outputs[0]) return null;
    const h0 = matmul.outputs[0];
    const rowWeight = invReader.outputs[0];
    const h0Batched = `${h0}_hubnlu_b1d`;
    replace(invReader, node('Mul', [scaleGather.outputs[0], BATCH_INPUTS.weight], [rowWeight])); // [b, l]
    replace(unsq, node('Unsqueeze', [rowWeight, AXES1], [unsq.outputs[0]])); // [b, 1, l]
    replace(matmul, node('MatMul', [unsq.outputs[0], cast.outputs[0]], [h0Batched]), node('Squeeze', [h0Batched, AXES1], [h0])); // [b, 1, dim] → [b, dim]
  } else if (idReaders.length === 1) {
    // fp32: Gather(emb) → ReduceSum(axes 0, keepdims) → Mul(·, inv_count) → h0.
    const gather = idReaders[0];
    const reduce = soleConsumer(g.nodes, gather.outputs[0]);
    if (reduce?.opType !== 'ReduceSum' || scalarAxes(model, reduce.inputs[1]) !== 0n || soleConsumer(g.nodes, reduce.outputs[0]) !== invReader) return null;
    const weighted = `${gather.outputs[0]}_hubnlu_weighted`;
    const w3 = `${BATCH_INPUTS.weight}_hubnlu_b_l_1`;
    replace(
      reduce,
      node('Unsqueeze', [BATCH_INPUTS.weight, AXES2], [w3]), // [b, l, 1]
      node('Mul', [gather.outputs[0], w3], [weighted]), // [b, l, dim]
      node('ReduceSum', [weighted, AXES1], [reduce.outputs[0]], [['keepdims', { kind: 'int', value: 0 }]]), // [b, dim]
    );
    replace(invReader, node('Identity', [reduce.outputs[0]], [invReader.outputs[0]]));
  } else {
    return null;
  }
  const classes = g.outputs[0].tensor!.dims![1];
  // Initializers no node reads any more (the old axes 0) would only draw onnxruntime warnings.
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...g.initializers, int64Tensor(AXES1, [1n]), int64Tensor(AXES2, [2n])].filter((t) => used.has(t.name));
  const batched: OnnxModelProto = {
    ...model,
    graph: {
      ...g,
      nodes,
      initializers,
      inputs: [
        { name: BATCH_INPUTS.ids, tensor: { elemType: DATA_TYPE.int32, dims: ['batch', 'len'] } },
        { name: BATCH_INPUTS.weight, tensor: { elemType: DATA_TYPE.float32, dims: ['batch', 'len'] } },
      ],
      outputs: [{ ...g.outputs[0], tensor: { elemType: DATA_TYPE.float32, dims: ['batch', classes] } }],
      // Shapes recorded for the single-sentence graph would contradict the batched one.
      valueInfo: [],
    },
  };
  return encodeModel(batched);
}

/** Ops that map each row (token) of their input to a row of their output, given the checks below. */
const ROW_WISE = new Set(['Gather', 'Cast', 'Mul', 'Add', 'Relu', 'Gemm', 'ReduceSum', 'Identity']);

/**
 * Whether a slot tagger file scores each token from its own feature row only
 * (ids [tokens, K] → scores [tokens, tags]), so the tokens of several
 * sentences can go through one call: every node is row-wise, Gathers read the
 * weight tables (initializers) at `ids`, ReduceSum does not reduce axis 0, and
 * Gemm multiplies by a weight matrix, not by another token's row.
 */
export function isRowWiseTagger(bytes: Uint8Array, what = 'slot tagger'): boolean {
  let model: OnnxModelProto;
  try {
    model = decodeModel(bytes, what);
  } catch {
    return false;
  }
  const g = model.graph;
  const inits = new Set(g.initializers.map((i) => i.name));
  if (g.inputs.length !== 1 || g.inputs[0].tensor?.dims?.length !== 2 || g.outputs.length !== 1 || g.outputs[0].tensor?.dims?.length !== 2) return false;
  // Values computed from initializers only (the dequantised weight matrix) are constants, not rows.
  const constant = new Set(inits);
  for (const n of g.nodes) if (n.inputs.every((i) => i === '' || constant.has(i))) n.outputs.forEach((o) => constant.add(o));
  return g.nodes.every((n) => {
    if (!isDefaultDomain(n) || !ROW_WISE.has(n.opType)) return false;
    if (constant.has(n.outputs[0])) return true;
    if (n.opType === 'Gather') return inits.has(n.inputs[0]) && !constant.has(n.inputs[1]) && Number(n.attributes.get('axis')?.value ?? 0) === 0;
    if (n.opType === 'ReduceSum') {
      const axes = scalarAxes(model, n.inputs[1]);
      return axes !== undefined && axes > 0n;
    }
    if (n.opType === 'Gemm') return constant.has(n.inputs[1]) && (n.inputs[2] === undefined || constant.has(n.inputs[2])) && !n.attributes.has('transA');
    return true;
  });
}

/** The inputs of the slot tagger's mixture form (`mixtureTaggerGraph`). */
export const MIXTURE_INPUTS = { ids: 'ids', select: 'part_select', weight: 'part_weight' } as const;

const MIX_AXES1 = 'hubnlu_mix_axes1';
const MIX_SHAPE_T1L = 'hubnlu_mix_shape_t1l';

/** Ops of a tagger's per-feature rows (Gather int8 rows → Cast → × their scales), each id's row on its own. */
const FEATURE_ROW_OPS = new Set(['Gather', 'Cast', 'Mul']);

/** Whether a table's rows hold one value each ([rows, 1]: the int8 rows' scales). */
function isColumn(dims: readonly number[] | undefined): boolean {
  return dims !== undefined && dims.length === 2 && dims[1] === 1;
}

/**
 * The slot tagger file rewritten for decoding over several intents at once (issue 13, `slots.intentMixture`), or
 * null when the file is not the shape src/train/tagger.ts writes (the caller then runs each intent's rows through
 * the file as it is). The file computes, per token, scores = W · act(Σ_k emb[ids_k] + b1) + b2 (act: Relu or
 * none). Only a few of a token's ids depend on the intent, so a token's row holds its shared ids once and each
 * part's intent ids after them, and the feature sum over all ids becomes a product with a 0/1 selection:
 *
 *   ids         int32   [tokens, len]      the shared ids, then each part's own (0: the zero padding row)
 *   part_select float32 [parts, len]       1 where part p reads the row: the shared ids and its own
 *   part_weight float32 [tokens, parts, 1] each part's weight (0 for padding; a token's weights sum to 1)
 *   scores      float32 [tokens, tags]     W · Σ_p weight_p · act(Σ_l select[p, l] · emb[ids_l] + b1) + b2
 *
 * which is Σ_p weight_p × the file's scores for part p's ids, the mixture `SlotTagger.tagMixtures` decodes, with
 * the shared ids gathered once and one output layer a token instead of one a part. The file's ReduceSum over the
 * features becomes MatMul(part_select, rows); in the int8 form (rows = Cast(Gather(emb_q)) × Gather(emb_scale)) the
 * row scales go into the selection instead, MatMul(part_select × scales [t, p, len], Cast(Gather(emb_q))), which
 * spares onnxruntime a broadcast product over every gathered row (7–8 µs a sentence of 9 tokens and 3 parts).
 * Two nodes are added before the output layer (the weighted sum over parts).
 */
export function mixtureTaggerGraph(bytes: Uint8Array, what = 'slot tagger'): Uint8Array | null {
  const model = decodeRewritable(bytes, what);
  if (!model || !isRowWiseTagger(bytes, what)) return null;
  const g = model.graph;
  const input = g.inputs[0];
  if (input.name !== MIXTURE_INPUTS.ids) return null;
  const inits = new Set(g.initializers.map((i) => i.name));
  // Values computed from initializers only (the dequantised weight matrix) are constants, as in isRowWiseTagger.
  const constant = new Set(inits);
  for (const n of g.nodes) if (n.inputs.every((i) => i === '' || constant.has(i))) n.outputs.forEach((o) => constant.add(o));
  // The per-id rows: the nodes that read the ids, directly or through each other, up to the ReduceSum over the ids.
  const rows: OnnxNode[] = [];
  const fromIds = new Set<string>([input.name]);
  let reduce: OnnxNode | undefined;
  for (const n of g.nodes) {
    if (!n.inputs.some((i) => fromIds.has(i))) continue;
    if (n.opType === 'ReduceSum') {
      reduce = n;
      break;
    }
    if (!FEATURE_ROW_OPS.has(n.opType)) return null;
    if (n.opType === 'Gather' && (!inits.has(n.inputs[0]) || n.inputs[1] !== input.name)) return null;
    // Mul: a row by its scale (both from the ids), never by a constant that could mix the ids.
    if (n.opType === 'Mul' && !n.inputs.every((i) => fromIds.has(i))) return null;
    rows.push(n);
    n.outputs.forEach((o) => fromIds.add(o));
  }
  if (!reduce || rows.length === 0 || scalarAxes(model, reduce.inputs[1]) !== 1n || Number(reduce.attributes.get('keepdims')?.value ?? 1) !== 0) return null;
  if (!fromIds.has(reduce.inputs[0])) return null;
  const summed = reduce.outputs[0];
  // After the sum: Add(summed, bias) → [Relu] → Gemm(·, weights, bias) → scores, and nothing else.
  const add = soleConsumer(g.nodes, summed);
  if (add?.opType !== 'Add' || add.inputs[0] !== summed || !inits.has(add.inputs[1])) return null;
  let act: OnnxNode | undefined;
  let hidden = add.outputs[0];
  let gemm = soleConsumer(g.nodes, hidden);
  if (gemm?.opType === 'Relu') {
    act = gemm;
    hidden = act.outputs[0];
    gemm = soleConsumer(g.nodes, hidden);
  }
  if (gemm?.opType !== 'Gemm' || gemm.inputs[0] !== hidden || gemm.outputs[0] !== g.outputs[0].name) return null;
  const known = new Set<OnnxNode>([...rows, reduce, add, gemm, ...(act ? [act] : [])]);
  if (g.nodes.some((n) => !known.has(n) && !constant.has(n.outputs[0]))) return null;

  const weighted = `${hidden}_hubnlu_weighted`;
  const mixed = `${hidden}_hubnlu_mixture`;
  const nodes: OnnxNode[] = [];
  // The int8 form: the rows are Mul(Cast(Gather(emb_q)), Gather(emb_scale)) with one scale a row ([rows, 1]).
  const scaled = rows.find((n) => n.outputs[0] === reduce!.inputs[0] && n.opType === 'Mul');
  const scaleGather = scaled && rows.find((n) => n.opType === 'Gather' && scaled.inputs.includes(n.outputs[0]) && isColumn(g.initializers.find((i) => i.name === n.inputs[0])?.dims));
  const unscaled = scaled && scaleGather && scaled.inputs.find((i) => i !== scaleGather.outputs[0]);
  for (const n of g.nodes) {
    if (n === scaled && scaleGather && unscaled) {
      const scales = `${scaleGather.outputs[0]}_hubnlu_t1l`;
      const select = `${MIXTURE_INPUTS.select}_hubnlu_scaled`;
      nodes.push(
        node('Reshape', [scaleGather.outputs[0], MIX_SHAPE_T1L], [scales]), // [t, len, 1] → [t, 1, len]
        node('Mul', [MIXTURE_INPUTS.select, scales], [select]), // [p, len] × [t, 1, len] → [t, p, len]
      );
    } else if (n === reduce) {
      // [p, len] × [t, len, d], or [t, p, len] × the unscaled int8 rows [t, len, d] → [t, p, d]
      nodes.push(scaleGather && unscaled ? node('MatMul', [`${MIXTURE_INPUTS.select}_hubnlu_scaled`, unscaled], [summed]) : node('MatMul', [MIXTURE_INPUTS.select, reduce.inputs[0]], [summed]));
    } else if (n === gemm) {
      nodes.push(
        node('Mul', [hidden, MIXTURE_INPUTS.weight], [weighted]), // [t, p, d]
        node('ReduceSum', [weighted, MIX_AXES1], [mixed], [['keepdims', { kind: 'int', value: 0 }]]), // [t, d]
        { ...n, inputs: [mixed, ...n.inputs.slice(1)] },
      );
    } else nodes.push(n);
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const mixture: OnnxModelProto = {
    ...model,
    graph: {
      ...g,
      nodes,
      initializers: [...g.initializers, int64Tensor(MIX_AXES1, [1n]), int64Tensor(MIX_SHAPE_T1L, [0n, 1n, -1n])].filter((t) => used.has(t.name)),
      inputs: [
        { name: MIXTURE_INPUTS.ids, tensor: { elemType: DATA_TYPE.int32, dims: ['tokens', 'len'] } },
        { name: MIXTURE_INPUTS.select, tensor: { elemType: DATA_TYPE.float32, dims: ['parts', 'len'] } },
        { name: MIXTURE_INPUTS.weight, tensor: { elemType: DATA_TYPE.float32, dims: ['tokens', 'parts', 1] } },
      ],
      valueInfo: [],
    },
  };
  return encodeModel(mixture);
}
