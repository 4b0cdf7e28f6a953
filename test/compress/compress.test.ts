import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERT_TINY, buildBertGraph, randomBertWeights, type BertShape, type BertWeights } from '../../src/train/bert-graph.js';
import { decodeModel, encodeModel, type OnnxModelProto } from '../../src/train/onnx-proto.js';
import { floatValues, GraphIndex, parameterCount } from '../../src/compress/graph.js';
import { quantizeModel } from '../../src/compress/quantize-model.js';
import { pruneModel, zeroSmallest } from '../../src/compress/prune-model.js';
import { compareOutputs, makeInputSet, runInputSet } from '../../src/compress/measure.js';
import { quantizeFile } from '../../src/compress/compress-file.js';

const SEQ: BertShape = { ...BERT_TINY, vocab: 512, hidden: 64, heads: 4, intermediate: 128 };
const TOK: BertShape = { ...SEQ, head: 'token-classification' };

let dir: string;
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-compress-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function save(name: string, bytesOrModel: Uint8Array | OnnxModelProto): string {
  const p = join(dir, name);
  writeFileSync(p, bytesOrModel instanceof Uint8Array ? bytesOrModel : encodeModel(bytesOrModel));
  return p;
}

/** Runs both files on the same input set made from the first model's graph. */
async function agreement(a: string, b: string, model: OnnxModelProto, count = 24): Promise<{ agreement: number; maxDiff: number }> {
  const inputs = makeInputSet(model, { count, lengths: [6, 12] });
  const ra = await runInputSet(a, inputs, { warmup: 0 });
  const rb = await runInputSet(b, inputs, { warmup: 0 });
  return compareOutputs(ra.outputs, rb.outputs);
}

for (const [label, shape] of [
  ['sequence', SEQ],
  ['token', TOK],
] as const) {
  for (const format of ['matmul-integer', 'dequantize'] as const) {
    test(`quantize (${format}) a ${label}-classification BERT: no float matrices left, smaller, same predictions`, async () => {
      const bytes = buildBertGraph(shape, randomBertWeights(shape, { seed: 4, std: 0.1 }));
      const fp32 = save(`${label}-${format}-fp32.onnx`, bytes);
      const m = decodeModel(bytes);
      const s = quantizeModel(m, { format });
      const seqHead = shape.head === 'sequence-classification';
      assert.equal(s.matmul, shape.layers * 6 + (seqHead ? 0 : 1));
      assert.equal(s.gemm, seqHead ? 2 : 0);
      assert.equal(s.gather, 3);
      assert.equal(s.dequantized, format === 'dequantize' ? s.matmul + s.gemm : 0);
      const idx = GraphIndex.of(m);
      for (const n of m.graph.nodes) {
        if (n.opType === 'MatMul' || n.opType === 'Gemm' || n.opType === 'Gather') {
          const w = idx.init(n.inputs[n.opType === 'Gather' ? 0 : 1]);
          assert.ok(!w || w.dataType !== 1 || w.dims.length < 2 || w.dims[1] === 1, `${n.name} still reads float32 ${w?.name}`);
        }
      }
      assert.equal(m.graph.nodes.filter((n) => n.opType === 'MatMulInteger').length, format === 'matmul-integer' ? s.matmul + s.gemm : 0);
      const q = save(`${label}-${format}-int8.onnx`, m);
      const ratio = statSync(fp32).size / statSync(q).size;
      assert.ok(ratio > 3, `only ${ratio.toFixed(2)}× smaller`);
      const cmp = await agreement(fp32, q, decodeModel(bytes));
      assert.ok(cmp.agreement >= 0.95, `top-1 agreement ${cmp.agreement}`);
      assert.ok(cmp.maxDiff > 0 && cmp.maxDiff < 0.5, `max logit difference ${cmp.maxDiff}`);
    });
  }
}

test('quantize leaves already-int8 weights alone and runs the shipped-model pattern (int8 rows, per-row scale table)', () => {
  const m = decodeModel(buildBertGraph(SEQ, randomBertWeights(SEQ, { seed: 1 })));
  quantizeModel(m, { format: 'auto' });
  const before = m.graph.initializers.length;
  const again = quantizeModel(m);
  assert.equal(again.matmul + again.gemm + again.gather, 0);
  assert.ok(again.alreadyQuantized > 0);
  assert.equal(m.graph.initializers.length, before);
});

test('auto format: large weights as integer kernels, small ones dequantised', () => {
  const shape: BertShape = { ...SEQ, hidden: 128, heads: 2, intermediate: 256, numLabels: 2 };
  const m = decodeModel(buildBertGraph(shape, randomBertWeights(shape)));
  const s = quantizeModel(m);
  // 128×128 = 16384 and up: integer; the 2-label classifier (256 elements) is dequantised.
  assert.equal(s.dequantized, 1);
  assert.equal(m.graph.nodes.filter((n) => n.opType === 'DequantizeLinear').length, 1);
});

test('zeroSmallest hits the target exactly, ties included, largest magnitudes kept', () => {
  const v = new Float32Array([0.1, -0.1, 0.1, 5, -3, 0.2, 0, 0.1]);
  zeroSmallest(v, 0.5);
  assert.equal(v.filter((x) => x === 0).length, 4);
  assert.deepEqual(Array.from(v).slice(3, 6), [5, -3, Math.fround(0.2)]);
  const q = Int8Array.from([1, -1, 2, 100, -90, 3]);
  zeroSmallest(q, 0.5);
  assert.deepEqual(Array.from(q), [0, 0, 0, 100, -90, 3]);
});

test('prune --sparsity 0.5 zeroes half of every weight matrix and still runs', async () => {
  const bytes = buildBertGraph(SEQ, randomBertWeights(SEQ, { seed: 6, std: 0.1 }));
  const m = decodeModel(bytes);
  const s = pruneModel(m, { sparsity: 0.5 });
  assert.equal(s.unstructured!.tensors, SEQ.layers * 6 + 2);
  const idx = GraphIndex.of(m);
  const wo = floatValues(idx.init('encoder.layer.1.attention.output.dense.weight')!);
  assert.equal(wo.filter((x) => x === 0).length, wo.length / 2);
  const emb = floatValues(idx.init('embeddings.word_embeddings.weight')!);
  assert.equal(emb.filter((x) => x === 0).length, 0, 'embeddings are not pruned');
  const before = parameterCount(decodeModel(bytes));
  const after = parameterCount(m);
  assert.equal(after.total, before.total);
  assert.ok(after.nonzero < before.nonzero);
  const cmp = await agreement(save('sparse-fp32.onnx', bytes), save('sparse.onnx', m), decodeModel(bytes));
  assert.ok(cmp.maxDiff > 0);
});

/** Zeroes heads / FFN units so that removing exactly those must leave the outputs unchanged. */
function silence(w: BertWeights, shape: BertShape, heads: number[], units: number[]): void {
  const h = shape.hidden;
  const dh = h / shape.heads;
  for (let l = 0; l < shape.layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const hd of heads) {
      for (const m of ['query', 'key', 'value']) {
        const W = w.get(`${p}.attention.self.${m}.weight`)!;
        const b = w.get(`${p}.attention.self.${m}.bias`)!;
        for (let c = hd * dh; c < (hd + 1) * dh; c++) {
          b[c] = 0;
          for (let r = 0; r < h; r++) W[r * h + c] = 0;
        }
      }
      w.get(`${p}.attention.output.dense.weight`)!.fill(0, hd * dh * h, (hd + 1) * dh * h);
    }
    const I = shape.intermediate;
    for (const u of units) {
      const W1 = w.get(`${p}.intermediate.dense.weight`)!;
      for (let r = 0; r < h; r++) W1[r * I + u] = 0;
      w.get(`${p}.intermediate.dense.bias`)![u] = 0;
      w.get(`${p}.output.dense.weight`)!.fill(0, u * h, (u + 1) * h);
    }
  }
}

for (const shape of [SEQ, TOK]) {
  test(`structured pruning (${shape.head}) removes exactly the silent heads and units: matrices shrink, outputs unchanged`, async () => {
    const w = randomBertWeights(shape, { seed: 8, std: 0.1 });
    const units = Array.from({ length: shape.intermediate / 4 }, (_, i) => i * 4 + 1);
    silence(w, shape, [2], units);
    const bytes = buildBertGraph(shape, w);
    const m = decodeModel(bytes);
    const s = pruneModel(m, { heads: 1, ffn: 0.25 });
    assert.deepEqual(s.heads, { blocks: shape.layers, removedPerBlock: 1, headsBefore: 4, headsAfter: 3 });
    assert.deepEqual(s.ffn, { blocks: shape.layers, unitsBefore: shape.layers * shape.intermediate, unitsAfter: shape.layers * shape.intermediate * 0.75 });
    const idx = GraphIndex.of(m);
    const q0 = m.graph.nodes.find((n) => n.opType === 'MatMul' && n.outputs[0] === '/encoder.layer.0/query_mm')!;
    assert.deepEqual(idx.init(q0.inputs[1])!.dims, [shape.hidden, (shape.hidden * 3) / 4]);
    const up = m.graph.nodes.find((n) => n.outputs[0] === '/encoder.layer.1/inter_mm')!;
    assert.deepEqual(idx.init(up.inputs[1])!.dims, [shape.hidden, (shape.intermediate * 3) / 4]);
    assert.ok(parameterCount(m).total < parameterCount(decodeModel(bytes)).total);
    const cmp = await agreement(save(`silent-${shape.head}.onnx`, bytes), save(`pruned-${shape.head}.onnx`, m), decodeModel(bytes));
    assert.equal(cmp.agreement, 1);
    assert.ok(cmp.maxDiff < 1e-4, `max logit difference ${cmp.maxDiff}`);
    // Pruning heads that do matter changes the outputs (the check above can fail).
    const m2 = decodeModel(bytes);
    pruneModel(m2, { heads: 2 });
    const cmp2 = await agreement(save(`pruned2-${shape.head}.onnx`, bytes), save(`pruned2b-${shape.head}.onnx`, m2), decodeModel(bytes));
    assert.ok(cmp2.maxDiff > 1e-3);
  });
}

test('structured pruning explains when the graph does not allow it', () => {
  const m = decodeModel(buildBertGraph(SEQ, randomBertWeights(SEQ)));
  quantizeModel(m, { format: 'matmul-integer' });
  assert.throws(() => pruneModel(m, { ffn: 0.5 }), /--ffn: found no feed-forward block.*prune the fp32 model, then quantise/);
  assert.throws(() => pruneModel(m, { heads: 1 }), /--heads: found no attention block/);
  const m2 = decodeModel(buildBertGraph(SEQ, randomBertWeights(SEQ)));
  assert.throws(() => pruneModel(m2, { heads: 4 }), /has only 4 heads/);
  assert.throws(() => pruneModel(m2, {}), /nothing to prune/);
  assert.throws(() => pruneModel(m2, { sparsity: 1 }), /--sparsity/);
});

test('quantizeFile writes atomically, refuses to overwrite without force, measures before/after', async () => {
  const fp32 = save('file-fp32.onnx', buildBertGraph(SEQ, randomBertWeights(SEQ, { seed: 2, std: 0.1 })));
  const out = join(dir, 'file-int8.onnx');
  const r = await quantizeFile(fp32, out, {}, { inputs: { count: 8, rounds: 1 } });
  assert.equal(r.comparison!.inputs, 8);
  assert.equal(r.comparison!.before.bytes, statSync(fp32).size);
  assert.equal(r.comparison!.after.bytes, statSync(out).size);
  assert.ok(r.comparison!.after.p50Ms > 0);
  await assert.rejects(quantizeFile(fp32, out), /exists; pass --force/);
  await assert.rejects(quantizeFile(fp32, fp32, {}, { force: true }), /is the input file/);
  await assert.rejects(quantizeFile(join(dir, 'none.onnx'), out), /no such model file/);
  writeFileSync(join(dir, 'bad.onnx'), 'not a model');
  await assert.rejects(quantizeFile(join(dir, 'bad.onnx'), join(dir, 'bad-out.onnx')), /bad\.onnx: not/);
});
