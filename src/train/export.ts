/**
 * fastText weights → ONNX graph, fp32 or int8 with per-row scales.
 *
 * Inputs: `ids` int32 [n] (compact rows from the feature remap) and
 * `inv_count` float32 [1] (1 / the sentence's feature count, 0 when it has
 * none). Output: `logits` float32 [1, classes]. Temperature and the unknown
 * threshold are applied by the runtime from the manifest, so recalibrating
 * does not need a new graph.
 *
 * int8 path: the scales of the gathered rows, times inv_count, form a [1, n]
 * row vector that a single MatMul applies to the Cast [n, dim] int8 rows, so
 * dequantisation, sum and average are one matrix product.
 */
import { OnnxGraphBuilder } from './onnx-writer.js';
import type { FastTextWeights } from './fasttext.js';
import { quantizeRows } from './quantize.js';

export type Precision = 'fp32' | 'int8';

export const CLASSIFIER_INPUTS = { ids: 'ids', invCount: 'inv_count' } as const;
export const CLASSIFIER_OUTPUT = 'logits';

export function buildClassifierGraph(w: FastTextWeights, precision: Precision, metadata: Record<string, string> = {}): Uint8Array {
  const g = new OnnxGraphBuilder('hubnlu_fasttext');
  g.input(CLASSIFIER_INPUTS.ids, 'int32', ['n']);
  g.input(CLASSIFIER_INPUTS.invCount, 'float32', [1]);
  g.initializer('axes0', 'int64', [1], new BigInt64Array([0n]));
  let h: string;
  if (precision === 'int8') {
    const qr = quantizeRows(w.emb, w.numRows, w.dim);
    g.initializer('emb_q', 'int8', [w.numRows, w.dim], qr.q);
    g.initializer('emb_scale', 'float32', [w.numRows], qr.scales);
    g.node('Gather', ['emb_q', 'ids'], ['rows_q'], { axis: 0 });
    g.node('Cast', ['rows_q'], ['rows_f'], { to: 1 }); // 1 = FLOAT
    g.node('Gather', ['emb_scale', 'ids'], ['row_scale'], { axis: 0 });
    g.node('Mul', ['row_scale', 'inv_count'], ['row_weight']);
    g.node('Unsqueeze', ['row_weight', 'axes0'], ['row_weight_1n']);
    h = g.node('MatMul', ['row_weight_1n', 'rows_f'], ['h0']);
  } else {
    g.initializer('emb', 'float32', [w.numRows, w.dim], w.emb);
    g.node('Gather', ['emb', 'ids'], ['rows_f'], { axis: 0 });
    g.node('ReduceSum', ['rows_f', 'axes0'], ['sum'], { keepdims: 1 });
    h = g.node('Mul', ['sum', 'inv_count'], ['h0']);
  }
  let xdim = w.dim;
  if (w.hidden > 0 && w.w1 && w.b1) {
    g.initializer('w1', 'float32', [w.dim, w.hidden], w.w1);
    g.initializer('b1', 'float32', [w.hidden], w.b1);
    g.node('MatMul', [h, 'w1'], ['h1_mm']);
    g.node('Add', ['h1_mm', 'b1'], ['h1_pre']);
    h = g.node('Relu', ['h1_pre'], ['h1']);
    xdim = w.hidden;
  }
  g.initializer('w2', 'float32', [xdim, w.numClasses], w.w2);
  g.initializer('b2', 'float32', [w.numClasses], w.b2);
  g.node('MatMul', [h, 'w2'], ['out_mm']);
  g.node('Add', ['out_mm', 'b2'], [CLASSIFIER_OUTPUT]);
  g.output(CLASSIFIER_OUTPUT, 'float32', [1, w.numClasses]);
  return g.toBytes({ opset: 17, producerName: 'hubnlu', docString: `fastText classifier, ${precision}`, metadata });
}
