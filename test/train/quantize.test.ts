import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dequantizeRows, quantizeRows } from '../../src/train/quantize.js';
import { mulberry32 } from '../../src/data/random.js';
import { trainClassifier } from '../../src/train/trainer.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import { TextClassifier } from '../../src/model/classifier.js';
import { tokenize } from '../../src/model/text.js';
import { FastTextScorer } from '../../src/train/fasttext.js';
import { tinyDataset, TINY_DEV } from './tiny-data.js';

test('per-row int8: every element within half a step of its row scale; row maxima exact; zero rows stay zero', () => {
  const rand = mulberry32(7);
  const rows = 50;
  const dim = 16;
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const mag = 10 ** (rand() * 6 - 4); // rows of very different magnitudes
    for (let d = 0; d < dim; d++) x[r * dim + d] = r === 3 ? 0 : (rand() * 2 - 1) * mag;
  }
  const q = quantizeRows(x, rows, dim);
  const y = dequantizeRows(q);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(x[r * dim + d]));
    assert.ok(Math.abs(q.scales[r] - max / 127) <= 1e-6 * max, `row ${r} scale`);
    for (let d = 0; d < dim; d++) {
      const err = Math.abs(y[r * dim + d] - x[r * dim + d]);
      assert.ok(err <= q.scales[r] / 2 + 1e-7 * max, `row ${r} dim ${d}: error ${err} > ${q.scales[r] / 2}`);
      if (Math.abs(x[r * dim + d]) === max && max > 0) assert.equal(Math.abs(q.q[r * dim + d]), 127);
    }
  }
  assert.deepEqual([...y.subarray(3 * dim, 4 * dim)], new Array(dim).fill(0));
  assert.throws(() => quantizeRows(new Float32Array(5), 2, 2), /not 2 × 2/);
});

test('the int8 ONNX graph agrees with the fp32 weights within the quantisation bound', async () => {
  const trained = trainClassifier({ task: 'intent', train: [tinyDataset()], fasttext: { epochs: 3, seed: 5 } });
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-q-'));
  try {
    await writeModelDir(dir, trained, { name: 't', version: '0', threshold: 0.5, data: [] });
    const clf = await TextClassifier.load(dir);
    assert.equal(clf.manifest.architecture.precision, 'int8');
    const scorer = new FastTextScorer(trained.weights);
    const q = quantizeRows(trained.weights.emb, trained.weights.numRows, trained.weights.dim);
    // |Δlogit_c| ≤ Σ_d |Δh_d|·|W_dc| with |Δh_d| ≤ (1/count) Σ_rows scale/2.
    let maxAbsW = 0;
    for (const w of trained.weights.w2) maxAbsW = Math.max(maxAbsW, Math.abs(w));
    try {
      for (const r of TINY_DEV) {
        const enc = clf.encode(tokenize(r.text));
        const onnx = await clf.logits(enc);
        const js = scorer.logits(enc.rows, enc.count, new Float32Array(trained.labels.length));
        let dh = 0;
        for (const row of enc.rows) dh += q.scales[row] / 2;
        const bound = (dh / Math.max(1, enc.count)) * maxAbsW * trained.weights.dim + 1e-5;
        for (let c = 0; c < js.length; c++) assert.ok(Math.abs(onnx[c] - js[c]) <= bound, `${r.text}: |${onnx[c]} - ${js[c]}| > ${bound}`);
      }
    } finally {
      await clf.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('per-column int8 (MatMul weights [in, out]): one scale per output channel, each column within half a step; 7-bit range', async () => {
  const { quantizeColumns } = await import('../../src/train/quantize.js');
  const rand = mulberry32(3);
  const rows = 9;
  const cols = 5;
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) x[r * cols + c] = (rand() * 2 - 1) * 10 ** (c - 2);
  for (const range of [127, 63]) {
    const { q, scales } = quantizeColumns(x, rows, cols, { range });
    assert.equal(scales.length, cols);
    for (let c = 0; c < cols; c++) {
      let max = 0;
      for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(x[r * cols + c]));
      assert.ok(Math.abs(scales[c] - max / range) <= 1e-6 * max, `column ${c} scale`);
      for (let r = 0; r < rows; r++) {
        assert.ok(Math.abs(q[r * cols + c]) <= range);
        assert.ok(Math.abs(q[r * cols + c] * scales[c] - x[r * cols + c]) <= scales[c] / 2 + 1e-9, `(${r}, ${c})`);
      }
    }
  }
  assert.throws(() => quantizeColumns(new Float32Array(5), 2, 2), /not 2 × 2/);
});
