import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BERT_BASE,
  BERT_TINY,
  bertParameterCount,
  buildBertGraph,
  randomBertWeights,
  type BertShape,
  type BertWeights,
} from '../../src/train/bert-graph.js';
import { OnnxModel } from '../../src/model/onnx-backend.js';

// ---------------------------------------------------------------------------
// A plain TypeScript BERT forward pass (float64), the reference the graph must match.

type Vec = Float64Array;

function linear(x: Vec, w: Float32Array, b: Float32Array, inDim: number, outDim: number, transposed = false): Vec {
  const y = new Float64Array(outDim);
  for (let j = 0; j < outDim; j++) {
    let s = b[j];
    for (let i = 0; i < inDim; i++) s += x[i] * (transposed ? w[j * inDim + i] : w[i * outDim + j]);
    y[j] = s;
  }
  return y;
}

function layerNorm(x: Vec, gamma: Float32Array, beta: Float32Array): Vec {
  let mean = 0;
  for (const v of x) mean += v / x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2 / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-12)) * gamma[i] + beta[i]);
}

function erf(x: number): number {
  // Numerical Recipes erfc approximation (fractional error < 1.2e-7).
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    1 -
    t *
      Math.exp(
        -x * x -
          1.26551223 +
          t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
  return x >= 0 ? y : -y;
}

function forward(s: BertShape, w: BertWeights, ids: number[][], mask: number[][], types: number[][]): number[][] {
  const W = (n: string): Float32Array => w.get(n)!;
  const h = s.hidden;
  const dh = h / s.heads;
  const out: number[][] = [];
  for (let b = 0; b < ids.length; b++) {
    const T = ids[b].length;
    let xs: Vec[] = ids[b].map((id, t) => {
      const v = new Float64Array(h);
      for (let i = 0; i < h; i++) {
        v[i] = W('embeddings.word_embeddings.weight')[id * h + i] + W('embeddings.position_embeddings.weight')[t * h + i] + W('embeddings.token_type_embeddings.weight')[types[b][t] * h + i];
      }
      return layerNorm(v, W('embeddings.LayerNorm.weight'), W('embeddings.LayerNorm.bias'));
    });
    for (let l = 0; l < s.layers; l++) {
      const p = `encoder.layer.${l}`;
      const proj = (m: string): Vec[] => xs.map((x) => linear(x, W(`${p}.attention.self.${m}.weight`), W(`${p}.attention.self.${m}.bias`), h, h));
      const q = proj('query');
      const k = proj('key');
      const v = proj('value');
      const ctx = xs.map(() => new Float64Array(h));
      for (let hd = 0; hd < s.heads; hd++) {
        for (let i = 0; i < T; i++) {
          const sc = new Float64Array(T);
          for (let j = 0; j < T; j++) {
            let d = 0;
            for (let c = 0; c < dh; c++) d += q[i][hd * dh + c] * k[j][hd * dh + c];
            sc[j] = d / Math.sqrt(dh) + (1 - mask[b][j]) * -10000;
          }
          const mx = Math.max(...sc);
          const e = sc.map((z) => Math.exp(z - mx));
          const sum = e.reduce((a, z) => a + z, 0);
          for (let j = 0; j < T; j++) for (let c = 0; c < dh; c++) ctx[i][hd * dh + c] += (e[j] / sum) * v[j][hd * dh + c];
        }
      }
      const x1 = xs.map((x, i) => {
        const a = linear(ctx[i], W(`${p}.attention.output.dense.weight`), W(`${p}.attention.output.dense.bias`), h, h);
        return layerNorm(a.map((z, c) => z + x[c]), W(`${p}.attention.output.LayerNorm.weight`), W(`${p}.attention.output.LayerNorm.bias`));
      });
      xs = x1.map((x) => {
        const inter = linear(x, W(`${p}.intermediate.dense.weight`), W(`${p}.intermediate.dense.bias`), h, s.intermediate).map((z) => z * 0.5 * (1 + erf(z / Math.SQRT2)));
        const f = linear(inter, W(`${p}.output.dense.weight`), W(`${p}.output.dense.bias`), s.intermediate, h);
        return layerNorm(f.map((z, c) => z + x[c]), W(`${p}.output.LayerNorm.weight`), W(`${p}.output.LayerNorm.bias`));
      });
    }
    if (s.head === 'sequence-classification') {
      const pooled = linear(xs[0], W('pooler.dense.weight'), W('pooler.dense.bias'), h, h, true).map(Math.tanh);
      out.push(Array.from(linear(pooled, W('classifier.weight'), W('classifier.bias'), h, s.numLabels, true)));
    } else {
      for (const x of xs) out.push(Array.from(linear(x, W('classifier.weight'), W('classifier.bias'), h, s.numLabels)));
    }
  }
  return out;
}

async function runGraph(bytes: Uint8Array, ids: number[][], mask: number[][], types: number[][]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-bert-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), bytes);
    const model = await OnnxModel.load(join(dir, 'model.onnx'));
    try {
      const dims = [ids.length, ids[0].length];
      const t = (rows: number[][]): { type: 'int64'; data: BigInt64Array; dims: number[] } => ({ type: 'int64', data: BigInt64Array.from(rows.flat().map(BigInt)), dims });
      const out = await model.run({ input_ids: t(ids), attention_mask: t(mask), token_type_ids: t(types) });
      return out.logits;
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const IDS = [
  [101, 7, 42, 99, 3, 102],
  [101, 11, 12, 102, 0, 0],
];
const MASK = [
  [1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0],
];
const TYPES = [
  [0, 0, 0, 1, 1, 1],
  [0, 0, 0, 0, 0, 0],
];

for (const head of ['sequence-classification', 'token-classification'] as const) {
  test(`tiny BERT (${head}) runs in onnxruntime and matches a TypeScript forward pass`, async () => {
    const shape: BertShape = { ...BERT_TINY, head };
    // A larger std than BERT's 0.02 so the logits differ clearly between inputs.
    const w = randomBertWeights(shape, { seed: 3, std: 0.2 });
    const out = await runGraph(buildBertGraph(shape, w), IDS, MASK, TYPES);
    const ref = forward(shape, w, IDS, MASK, TYPES);
    assert.deepEqual(out.dims, head === 'sequence-classification' ? [2, shape.numLabels] : [2, 6, shape.numLabels]);
    const flat = ref.flat();
    assert.equal(out.data.length, flat.length);
    let spread = 0;
    for (let i = 0; i < flat.length; i++) {
      assert.ok(Math.abs(out.data[i] - flat[i]) < 1e-4, `logit ${i}: onnxruntime ${out.data[i]} vs reference ${flat[i]}`);
      spread = Math.max(spread, Math.abs(flat[i] - flat[0]));
    }
    assert.ok(spread > 1e-3, 'the logits are not all equal (the comparison means something)');
  });
}

test('padding does not change the unpadded positions: the attention mask is applied', async () => {
  const shape: BertShape = { ...BERT_TINY, head: 'sequence-classification' };
  const w = randomBertWeights(shape, { seed: 5, std: 0.2 });
  const bytes = buildBertGraph(shape, w);
  const short = await runGraph(bytes, [[101, 11, 12, 102]], [[1, 1, 1, 1]], [[0, 0, 0, 0]]);
  const padded = await runGraph(bytes, [IDS[1]], [MASK[1]], [TYPES[1]]);
  for (let i = 0; i < short.data.length; i++) assert.ok(Math.abs(short.data[i] - padded.data[i]) < 1e-4);
});

test('the same seed gives the same weights; shapes are checked; BERT-base has ~109.5 M parameters', () => {
  const a = randomBertWeights(BERT_TINY, { seed: 9 });
  const b = randomBertWeights(BERT_TINY, { seed: 9 });
  const c = randomBertWeights(BERT_TINY, { seed: 10 });
  assert.deepEqual(a.get('encoder.layer.1.output.dense.weight'), b.get('encoder.layer.1.output.dense.weight'));
  assert.notDeepEqual(a.get('encoder.layer.1.output.dense.weight'), c.get('encoder.layer.1.output.dense.weight'));
  assert.throws(() => randomBertWeights({ ...BERT_TINY, heads: 5 }), /not divisible by heads 5/);
  assert.throws(() => buildBertGraph(BERT_TINY, new Map()), /embeddings.word_embeddings.weight is missing/);
  // bert-base-uncased: 109,482,240 parameters + pooler; with a 2-label head 109,483,778.
  assert.equal(bertParameterCount(BERT_BASE), 109_483_778);
});
