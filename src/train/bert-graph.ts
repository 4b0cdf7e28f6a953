/**
 * A BERT-architecture ONNX graph, written with hubnlu's own ONNX writer.
 *
 * No model hub is reachable from a hub (or from this project's test machines),
 * so tests and benches make their transformer models here: the same shape and
 * operators as a Hugging Face `BertFor{Sequence,Token}Classification` export
 * (inputs `input_ids`, `attention_mask`, `token_type_ids`, int64 [batch,
 * sequence]; output `logits`), with random seeded weights. Latency and memory
 * depend on the shape, not on the weights.
 *
 * Operators are plain opset-17 ONNX that onnxruntime runs (and fuses) on CPU:
 * Gather, Add, LayerNormalization, MatMul, Reshape, Transpose, Softmax, Erf
 * (GELU), Gemm (pooler and sequence classifier, `transB = 1` as torch exports
 * `nn.Linear` on 2-D input). Dense weights of the encoder are stored [in, out]
 * for MatMul, again as torch exports them.
 *
 * The per-head Reshape targets are one initializer per layer holding the head
 * count (`[0, 0, heads, headDim]`), so structured head pruning can rewrite a
 * layer's count without touching the others.
 */
import { mulberry32 } from '../data/random.js';
import { float, OnnxGraphBuilder } from './onnx-writer.js';

export type BertHead = 'sequence-classification' | 'token-classification';

export interface BertShape {
  readonly vocab: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly maxPositions: number;
  /** Token-type (segment) vocabulary; BERT uses 2. */
  readonly typeVocab?: number;
  readonly numLabels: number;
  readonly head: BertHead;
}

/** BERT-base (uncased) with a 2-label classifier: the shape benches use. */
export const BERT_BASE: BertShape = {
  vocab: 30522,
  hidden: 768,
  layers: 12,
  heads: 12,
  intermediate: 3072,
  maxPositions: 512,
  typeVocab: 2,
  numLabels: 2,
  head: 'sequence-classification',
};

/** A 2-layer model that builds and runs in milliseconds (tests). */
export const BERT_TINY: BertShape = {
  vocab: 128,
  hidden: 32,
  layers: 2,
  heads: 4,
  intermediate: 64,
  maxPositions: 64,
  typeVocab: 2,
  numLabels: 3,
  head: 'sequence-classification',
};

export const BERT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export const BERT_OUTPUT = 'logits';
export const LAYER_NORM_EPS = 1e-12;

/** Weights by name; every tensor is float32, row-major, dense layers [in, out] except Gemm ones ([out, in]). */
export type BertWeights = Map<string, Float32Array>;

export interface BertWeightOptions {
  readonly seed?: number;
  /** Standard deviation of the random dense and embedding weights (BERT's init: 0.02). */
  readonly std?: number;
}

export function checkBertShape(s: BertShape): void {
  const ints: (keyof BertShape)[] = ['vocab', 'hidden', 'layers', 'heads', 'intermediate', 'maxPositions', 'numLabels'];
  for (const k of ints) {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`BERT shape: ${k} must be a positive integer, got ${String(v)}`);
  }
  if (s.hidden % s.heads !== 0) throw new RangeError(`BERT shape: hidden ${s.hidden} is not divisible by heads ${s.heads}`);
  if (s.head !== 'sequence-classification' && s.head !== 'token-classification') {
    throw new RangeError(`BERT shape: head must be sequence-classification or token-classification, got ${String(s.head)}`);
  }
}

/** Parameter names and shapes, in graph order. */
export function bertTensorShapes(s: BertShape): [string, number[]][] {
  checkBertShape(s);
  const h = s.hidden;
  const out: [string, number[]][] = [
    ['embeddings.word_embeddings.weight', [s.vocab, h]],
    ['embeddings.position_embeddings.weight', [s.maxPositions, h]],
    ['embeddings.token_type_embeddings.weight', [s.typeVocab ?? 2, h]],
    ['embeddings.LayerNorm.weight', [h]],
    ['embeddings.LayerNorm.bias', [h]],
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) {
      out.push([`${p}.attention.self.${m}.weight`, [h, h]], [`${p}.attention.self.${m}.bias`, [h]]);
    }
    out.push(
      [`${p}.attention.output.dense.weight`, [h, h]],
      [`${p}.attention.output.dense.bias`, [h]],
      [`${p}.attention.output.LayerNorm.weight`, [h]],
      [`${p}.attention.output.LayerNorm.bias`, [h]],
      [`${p}.intermediate.dense.weight`, [h, s.intermediate]],
      [`${p}.intermediate.dense.bias`, [s.intermediate]],
      [`${p}.output.dense.weight`, [s.intermediate, h]],
      [`${p}.output.dense.bias`, [h]],
      [`${p}.output.LayerNorm.weight`, [h]],
      [`${p}.output.LayerNorm.bias`, [h]],
    );
  }
  if (s.head === 'sequence-classification') out.push(['pooler.dense.weight', [h, h]], ['pooler.dense.bias', [h]]);
  // Gemm (sequence head) takes [out, in]; the token head's MatMul takes [in, out].
  out.push(['classifier.weight', s.head === 'sequence-classification' ? [s.numLabels, h] : [h, s.numLabels]], ['classifier.bias', [s.numLabels]]);
  return out;
}

/** Parameter count of a shape (what `hubnlu quantize` reports as "parameters"). */
export function bertParameterCount(s: BertShape): number {
  return bertTensorShapes(s).reduce((a, [, dims]) => a + dims.reduce((x, y) => x * y, 1), 0);
}

/**
 * Random seeded weights: normal(0, std) for embeddings and dense weights,
 * small normal biases, LayerNorm γ = 1 and β = 0 (BERT's initialisation,
 * except that biases are not zero so the graph's bias adds are exercised).
 */
export function randomBertWeights(s: BertShape, options: BertWeightOptions = {}): BertWeights {
  const rand = mulberry32(options.seed ?? 1);
  const std = options.std ?? 0.02;
  const normal = (): number => {
    // Box-Muller; 1 - rand() keeps log away from 0.
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const w: BertWeights = new Map();
  for (const [name, dims] of bertTensorShapes(s)) {
    const n = dims.reduce((a, b) => a * b, 1);
    const t = new Float32Array(n);
    if (name.endsWith('LayerNorm.weight')) t.fill(1);
    else if (name.endsWith('LayerNorm.bias')) t.fill(0);
    else {
      const sd = name.endsWith('.bias') ? std / 4 : std;
      for (let i = 0; i < n; i++) t[i] = normal() * sd;
    }
    w.set(name, t);
  }
  return w;
}

export interface BertGraphOptions {
  /** Stored in the model's metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly graphName?: string;
}

/** The ONNX bytes of a BERT model with these weights. */
export function buildBertGraph(s: BertShape, weights: BertWeights, options: BertGraphOptions = {}): Uint8Array {
  const shapes = bertTensorShapes(s);
  const g = new OnnxGraphBuilder(options.graphName ?? 'hubnlu_bert');
  const h = s.hidden;
  const dh = h / s.heads;
  g.input('input_ids', 'int64', ['batch', 'sequence']);
  g.input('attention_mask', 'int64', ['batch', 'sequence']);
  g.input('token_type_ids', 'int64', ['batch', 'sequence']);
  for (const [name, dims] of shapes) {
    const t = weights.get(name);
    if (!t) throw new Error(`BERT weights: ${name} is missing`);
    g.initializer(name, 'float32', dims, t);
  }
  const i64 = (name: string, values: readonly number[], scalar = false): string => {
    g.initializer(name, 'int64', scalar ? [] : [values.length], BigInt64Array.from(values.map(BigInt)));
    return name;
  };
  const f32 = (name: string, value: number): string => {
    g.initializer(name, 'float32', [], new Float32Array([value]));
    return name;
  };

  // Embeddings: word + position + token type, LayerNorm.
  i64('const_zero', [0], true);
  i64('const_one', [1], true);
  g.node('Shape', ['input_ids'], ['input_shape']);
  g.node('Gather', ['input_shape', 'const_one'], ['seq_len'], { axis: 0 });
  g.node('Range', ['const_zero', 'seq_len', 'const_one'], ['position_ids']);
  g.node('Gather', ['embeddings.word_embeddings.weight', 'input_ids'], ['emb_word'], { axis: 0 });
  g.node('Gather', ['embeddings.position_embeddings.weight', 'position_ids'], ['emb_pos'], { axis: 0 });
  g.node('Gather', ['embeddings.token_type_embeddings.weight', 'token_type_ids'], ['emb_type'], { axis: 0 });
  g.node('Add', ['emb_word', 'emb_pos'], ['emb_sum0']);
  g.node('Add', ['emb_sum0', 'emb_type'], ['emb_sum']);
  let x = g.node('LayerNormalization', ['emb_sum', 'embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias'], ['emb_out'], {
    axis: -1,
    epsilon: float(LAYER_NORM_EPS),
  });

  // Additive attention mask [batch, 1, 1, sequence]: 0 where attended, -10000 where padded.
  i64('mask_axes', [1, 2]);
  f32('const_one_f', 1);
  f32('mask_min', -10000);
  g.node('Cast', ['attention_mask'], ['mask_f'], { to: 1 });
  g.node('Unsqueeze', ['mask_f', 'mask_axes'], ['mask_4d']);
  g.node('Sub', ['const_one_f', 'mask_4d'], ['mask_inv']);
  const mask = g.node('Mul', ['mask_inv', 'mask_min'], ['mask_add']);
  f32('attn_scale', Math.sqrt(dh));
  f32('gelu_sqrt2', Math.SQRT2);
  f32('gelu_half', 0.5);

  const linear = (input: string, weight: string, bias: string, out: string): string => {
    g.node('MatMul', [input, weight], [`${out}_mm`]);
    return g.node('Add', [`${out}_mm`, bias], [out]);
  };
  for (let l = 0; l < s.layers; l++) {
    const p = `encoder.layer.${l}`;
    const a = `${p}.attention.self`;
    const heads = i64(`/${p}/heads_shape`, [0, 0, s.heads, dh]);
    const merge = i64(`/${p}/merge_shape`, [0, 0, h]);
    const split = (m: string, perm: number[]): string => {
      const y = linear(x, `${a}.${m}.weight`, `${a}.${m}.bias`, `/${p}/${m}`);
      g.node('Reshape', [y, heads], [`/${p}/${m}_heads`]);
      return g.node('Transpose', [`/${p}/${m}_heads`], [`/${p}/${m}_t`], { perm });
    };
    const q = split('query', [0, 2, 1, 3]); // [b, heads, s, dh]
    const k = split('key', [0, 2, 3, 1]); // [b, heads, dh, s]
    const v = split('value', [0, 2, 1, 3]);
    g.node('MatMul', [q, k], [`/${p}/scores_raw`]);
    g.node('Div', [`/${p}/scores_raw`, 'attn_scale'], [`/${p}/scores_scaled`]);
    g.node('Add', [`/${p}/scores_scaled`, mask], [`/${p}/scores`]);
    g.node('Softmax', [`/${p}/scores`], [`/${p}/probs`], { axis: -1 });
    g.node('MatMul', [`/${p}/probs`, v], [`/${p}/context_t`]);
    g.node('Transpose', [`/${p}/context_t`], [`/${p}/context_heads`], { perm: [0, 2, 1, 3] });
    g.node('Reshape', [`/${p}/context_heads`, merge], [`/${p}/context`]);
    const attnOut = linear(`/${p}/context`, `${p}.attention.output.dense.weight`, `${p}.attention.output.dense.bias`, `/${p}/attn_dense`);
    g.node('Add', [attnOut, x], [`/${p}/attn_residual`]);
    const x1 = g.node(
      'LayerNormalization',
      [`/${p}/attn_residual`, `${p}.attention.output.LayerNorm.weight`, `${p}.attention.output.LayerNorm.bias`],
      [`/${p}/attn_out`],
      { axis: -1, epsilon: float(LAYER_NORM_EPS) },
    );
    // Feed-forward: GELU(x W1 + b1) W2 + b2, GELU as x · ½ · (1 + erf(x / √2)).
    const inter = linear(x1, `${p}.intermediate.dense.weight`, `${p}.intermediate.dense.bias`, `/${p}/inter`);
    g.node('Div', [inter, 'gelu_sqrt2'], [`/${p}/gelu_div`]);
    g.node('Erf', [`/${p}/gelu_div`], [`/${p}/gelu_erf`]);
    g.node('Add', [`/${p}/gelu_erf`, 'const_one_f'], [`/${p}/gelu_add`]);
    g.node('Mul', [inter, `/${p}/gelu_add`], [`/${p}/gelu_mul`]);
    const act = g.node('Mul', [`/${p}/gelu_mul`, 'gelu_half'], [`/${p}/gelu`]);
    const ffn = linear(act, `${p}.output.dense.weight`, `${p}.output.dense.bias`, `/${p}/ffn_out`);
    g.node('Add', [ffn, x1], [`/${p}/ffn_residual`]);
    x = g.node('LayerNormalization', [`/${p}/ffn_residual`, `${p}.output.LayerNorm.weight`, `${p}.output.LayerNorm.bias`], [`/${p}/out`], {
      axis: -1,
      epsilon: float(LAYER_NORM_EPS),
    });
  }

  if (s.head === 'sequence-classification') {
    // Pooler: tanh(dense(h[:, 0])), then the classifier.
    g.node('Gather', [x, 'const_zero'], ['cls'], { axis: 1 });
    g.node('Gemm', ['cls', 'pooler.dense.weight', 'pooler.dense.bias'], ['pooled_pre'], { transB: 1 });
    g.node('Tanh', ['pooled_pre'], ['pooled']);
    g.node('Gemm', ['pooled', 'classifier.weight', 'classifier.bias'], [BERT_OUTPUT], { transB: 1 });
    g.output(BERT_OUTPUT, 'float32', ['batch', s.numLabels]);
  } else {
    linear(x, 'classifier.weight', 'classifier.bias', BERT_OUTPUT);
    g.output(BERT_OUTPUT, 'float32', ['batch', 'sequence', s.numLabels]);
  }
  return g.toBytes({
    opset: 17,
    producerName: 'hubnlu',
    docString: `BERT ${s.head}: ${s.layers} layers, hidden ${s.hidden}, ${s.heads} heads, intermediate ${s.intermediate}, vocab ${s.vocab}`,
    metadata: { architecture: 'bert', head: s.head, ...options.metadata },
  });
}
