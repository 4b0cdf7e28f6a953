import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxGraphBuilder, float, floats, tensorAttr } from '../../src/train/onnx-writer.js';
import { OnnxModel } from '../../src/model/onnx-backend.js';

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

async function withModel<T>(bytes: Uint8Array, fn: (m: OnnxModel) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-onnx-'));
  const path = join(dir, 'model.onnx');
  writeFileSync(path, bytes);
  const model = await OnnxModel.load(path);
  try {
    return await fn(model);
  } finally {
    await model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('int8 embedding bag → linear → softmax runs in onnxruntime and matches a JS reference', async () => {
  const rows = 5;
  const dim = 3;
  const classes = 2;
  const q = new Int8Array([1, -2, 3, 127, 0, -127, 5, 5, 5, -1, -1, -1, 10, 20, 30]);
  const scales = new Float32Array([0.1, 0.01, 0.2, 1, 0.05]);
  const w = new Float32Array([0.5, -0.5, 1, 2, -1, 0.25]); // [dim, classes]
  const b = new Float32Array([0.1, -0.1]);

  const g = new OnnxGraphBuilder('test');
  g.input('ids', 'int64', ['n']);
  g.initializer('emb', 'int8', [rows, dim], q);
  g.initializer('scale', 'float32', [rows], scales);
  g.initializer('w', 'float32', [dim, classes], w);
  g.initializer('b', 'float32', [classes], b);
  g.initializer('axes1', 'int64', [1], new BigInt64Array([1n]));
  g.node('Gather', ['emb', 'ids'], ['rows_q'], { axis: 0 });
  g.node('Cast', ['rows_q'], ['rows_f'], { to: 1 });
  g.node('Gather', ['scale', 'ids'], ['row_scale'], { axis: 0 });
  g.node('Unsqueeze', ['row_scale', 'axes1'], ['row_scale2']);
  g.node('Mul', ['rows_f', 'row_scale2'], ['rows']);
  g.node('ReduceMean', ['rows'], ['mean'], { axes: [0], keepdims: 1 });
  g.node('MatMul', ['mean', 'w'], ['mm']);
  g.node('Add', ['mm', 'b'], ['logits']);
  g.node('Softmax', ['logits'], ['probs'], { axis: -1 });
  g.output('logits', 'float32', [1, classes]);
  g.output('probs', 'float32', [1, classes]);
  const bytes = g.toBytes({ opset: 17, metadata: { task: 'test' } });

  const ids = [0, 3, 4];
  const mean = new Array(dim).fill(0);
  for (const id of ids) for (let d = 0; d < dim; d++) mean[d] += (q[id * dim + d] * scales[id]) / ids.length;
  const logits = [0, 1].map((c) => b[c] + mean.reduce((a, m, d) => a + m * w[d * classes + c], 0));
  const z = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - z));
  const probs = e.map((x) => x / (e[0] + e[1]));

  await withModel(bytes, async (m) => {
    assert.deepEqual([...m.inputNames], ['ids']);
    assert.deepEqual([...m.outputNames].sort(), ['logits', 'probs']);
    const out = await m.run({ ids: { type: 'int64', data: BigInt64Array.from(ids.map(BigInt)), dims: [ids.length] } });
    assert.deepEqual([...out.logits.dims], [1, classes]);
    close(out.logits.data, logits);
    close(out.probs.data, probs);
  });
});

test('float, floats, int32 and tensor attributes/initializers are encoded correctly', async () => {
  const g = new OnnxGraphBuilder();
  g.input('x', 'float32', [2, 2]);
  g.input('idx', 'int32', [2]);
  g.initializer('table', 'float32', [3], new Float32Array([10, 20, 30]));
  g.node('Constant', [], ['c'], { value: tensorAttr('float32', [2, 2], new Float32Array([1, 2, 3, 4])) });
  g.node('Add', ['x', 'c'], ['s']);
  g.node('LeakyRelu', ['s'], ['lr'], { alpha: float(0.25) });
  g.node('Gather', ['table', 'idx'], ['picked'], { axis: 0 });
  g.node('Constant', [], ['fl'], { value_floats: floats([0.5, 1.5]) });
  g.node('Mul', ['picked', 'fl'], ['scaled']);
  g.output('lr', 'float32', [2, 2]);
  g.output('scaled', 'float32', [2]);
  await withModel(g.toBytes(), async (m) => {
    const out = await m.run({
      x: { type: 'float32', data: new Float32Array([-5, 0, 1, -8]), dims: [2, 2] },
      idx: { type: 'int32', data: new Int32Array([2, 0]), dims: [2] },
    });
    close(out.lr.data, [-1, 2, 4, -1]);
    close(out.scaled.data, [15, 15]);
  });
});

test('builder rejects unknown inputs, duplicate names and mismatched data', () => {
  const g = new OnnxGraphBuilder();
  g.input('x', 'float32', [1]);
  assert.throws(() => g.node('Relu', ['y'], ['z']), /input "y"/);
  assert.throws(() => g.input('x', 'float32', [1]), /already used/);
  assert.throws(() => g.initializer('w', 'float32', [2], new Float32Array(3)), /hold 2 elements/);
  assert.throws(() => g.initializer('w', 'int8', [2], new Float32Array(2)), /Int8Array/);
  assert.throws(() => g.output('nope', 'float32', [1]), /no node produces/);
});
