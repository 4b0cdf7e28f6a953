/**
 * Dynamic int8 quantisation of any ONNX model, in TypeScript.
 *
 * - MatMul / Gemm with a constant float32 weight [in, out]: the weight is
 *   stored int8 with one scale per output channel (src/train/quantize.ts,
 *   the quantiser the shipped models use). Two ways to run it:
 *   `matmul-integer`: the activation is quantised at run time
 *   (DynamicQuantizeLinear → uint8, scale, zero point) and multiplied as
 *   integers (MatMulInteger → int32), then rescaled by activation scale ×
 *   channel scales; onnxruntime fuses this into one integer kernel.
 *   `dequantize`: DequantizeLinear turns the int8 weight back into float32 at
 *   run time and the float MatMul stays. Smaller file, float arithmetic.
 *   `auto` (the default) uses integer kernels for large weights and
 *   `dequantize` for small ones (INTEGER_MIN_ELEMENTS). MatMulInteger with
 *   int8 weights ran fastest of the variants on this project's x86-64 machine
 *   (bench/compress.ts).
 * - Gather on a constant float32 table (embeddings): the table is stored int8
 *   with one scale per row, the rows are gathered as int8 and only the
 *   gathered rows are dequantised (the shipped models do the same).
 * - Nodes that already read int8 weights are left as they are.
 */
import { quantizeColumns, quantizeRows } from '../train/quantize.js';
import { DATA_TYPE, type OnnxAttributeValue, type OnnxModelProto, type OnnxNode } from '../train/onnx-proto.js';
import { defaultOpset, elementCount, floatTensor, floatValues, GraphIndex, int8Tensor, NameAllocator, removeUnusedInitializers, uint8Tensor } from './graph.js';

export type WeightFormat = 'auto' | 'matmul-integer' | 'dequantize';

/**
 * `auto`: weights of at least this many elements (128 × 128) run as
 * integer kernels; smaller ones are stored int8 and dequantised. In a small
 * layer the run-time quantisation of the activation costs more accuracy than
 * the integer kernel saves time (hubnlu's shipped classifiers lose 1-2 points
 * of sentiment accuracy with it; dequantised, none).
 */
export const INTEGER_MIN_ELEMENTS = 16384;

export interface QuantizeModelOptions {
  /** How quantised MatMul/Gemm weights run (see the module comment and INTEGER_MIN_ELEMENTS). Default `auto`. */
  readonly format?: WeightFormat;
  /** Weights as uint8 with zero point 128 instead of int8 (onnxruntime's u8u8 kernels). Default false. */
  readonly uint8Weights?: boolean;
  /** 7-bit weights (|q| ≤ 63): no int16 saturation in AVX2 u8×s8 kernels without VNNI. Default false. */
  readonly reduceRange?: boolean;
  /** Quantise Gather tables (embeddings). Default true. */
  readonly embeddings?: boolean;
  /** Leave weights with fewer elements than this in float32. Default 0 (quantise all). */
  readonly minElements?: number;
}

export interface QuantizeSummary {
  readonly matmul: number;
  readonly gemm: number;
  readonly gather: number;
  /** Of the MatMul/Gemm weights, how many run dequantised (float compute) rather than as integer kernels. */
  readonly dequantized: number;
  /** Nodes that already read int8 / uint8 weights. */
  readonly alreadyQuantized: number;
  /** Weight-reading nodes left in float, with the reason. */
  readonly skipped: readonly { node: string; why: string }[];
}

const FLOAT = DATA_TYPE.float32;

function attrInt(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attributes.get(name);
  return a && a.kind === 'int' ? Number(a.value) : dflt;
}
function attrFloat(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attributes.get(name);
  return a && a.kind === 'float' ? a.value : dflt;
}

function node(opType: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, OnnxAttributeValue> = {}, domain = ''): OnnxNode {
  return { opType, domain, name, inputs, outputs, attributes: new Map(Object.entries(attrs)) };
}

/** Quantises `model` in place; returns what it changed. */
export function quantizeModel(model: OnnxModelProto, options: QuantizeModelOptions = {}): QuantizeSummary {
  const format = options.format ?? 'auto';
  const opset = defaultOpset(model);
  if (opset < 13) {
    throw new Error(`the model imports ONNX opset ${opset}; quantisation needs opset 13 or later (per-channel DequantizeLinear, DynamicQuantizeLinear): re-export it with opset ≥ 13`);
  }
  const range = options.reduceRange ? 63 : 127;
  const minElements = options.minElements ?? 0;
  const idx = GraphIndex.of(model);
  const names = NameAllocator.of(model);
  const newInits = model.graph.initializers;
  const out: OnnxNode[] = [];
  const skipped: { node: string; why: string }[] = [];
  let matmul = 0;
  let gemm = 0;
  let gather = 0;
  let alreadyQuantized = 0;
  let dequantized = 0;
  // One DynamicQuantizeLinear per activation (Q, K and V read the same one).
  const dynamicQuant = new Map<string, [string, string, string]>();
  // One quantised copy per weight, whatever number of nodes read it.
  const weightCache = new Map<string, { q: string; scale: string; zp: string }>();
  const tableCache = new Map<string, { q: string; scale: string }>();

  const quantizedWeight = (wName: string, transpose: boolean, key: string): { q: string; scale: string; zp: string; k: number; n: number } => {
    const t = idx.init(wName)!;
    const [r, c] = t.dims;
    const k = transpose ? c : r;
    const n = transpose ? r : c;
    const cached = weightCache.get(key);
    if (cached) return { ...cached, k, n };
    let w = floatValues(t);
    if (transpose) {
      const tw = new Float32Array(w.length);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) tw[j * r + i] = w[i * c + j];
      w = tw;
    }
    const { q, scales } = quantizeColumns(w, k, n, { range });
    const base = wName.replace(/[^A-Za-z0-9_.\/-]/g, '_');
    const qName = names.fresh(`${base}_quantized`);
    const sName = names.fresh(`${base}_scale`);
    const zName = names.fresh(`${base}_zero_point`);
    if (options.uint8Weights) {
      const u = new Uint8Array(q.length);
      for (let i = 0; i < q.length; i++) u[i] = q[i] + 128;
      newInits.push(uint8Tensor(qName, [k, n], u), uint8Tensor(zName, [n], new Uint8Array(n).fill(128)));
    } else {
      newInits.push(int8Tensor(qName, [k, n], q), int8Tensor(zName, [n], new Int8Array(n)));
    }
    newInits.push(floatTensor(sName, [n], scales));
    const entry = { q: qName, scale: sName, zp: zName };
    weightCache.set(key, entry);
    return { ...entry, k, n };
  };

  /** Emits nodes computing `y = a · W` with W quantised; returns nothing, `y` is produced. */
  const quantizedMatMul = (a: string, wName: string, transpose: boolean, y: string, label: string): void => {
    const w = quantizedWeight(wName, transpose, `${wName}|${transpose}`);
    if (format === 'dequantize' || (format === 'auto' && w.k * w.n < INTEGER_MIN_ELEMENTS)) {
      const wf = names.fresh(`${w.q}_dequantized`);
      out.push(node('DequantizeLinear', names.fresh(`${label}_weight_dequantize`), [w.q, w.scale, w.zp], [wf], { axis: { kind: 'int', value: 1 } }));
      dequantized++;
      out.push(node('MatMul', names.fresh(`${label}_matmul`), [a, wf], [y]));
      return;
    }
    let dq = dynamicQuant.get(a);
    if (!dq) {
      const base = a.replace(/[^A-Za-z0-9_.\/-]/g, '_');
      dq = [names.fresh(`${base}_quantized`), names.fresh(`${base}_scale`), names.fresh(`${base}_zero_point`)];
      out.push(node('DynamicQuantizeLinear', names.fresh(`${base}_dynamic_quantize`), [a], [...dq]));
      dynamicQuant.set(a, dq);
    }
    const mmInt = names.fresh(`${label}_matmul_integer_out`);
    const mmF = names.fresh(`${label}_matmul_integer_float`);
    const scale = names.fresh(`${label}_output_scale`);
    out.push(node('MatMulInteger', names.fresh(`${label}_matmul_integer`), [dq[0], w.q, dq[2], w.zp], [mmInt]));
    out.push(node('Cast', names.fresh(`${label}_cast`), [mmInt], [mmF], { to: { kind: 'int', value: FLOAT } }));
    out.push(node('Mul', names.fresh(`${label}_scales_mul`), [dq[1], w.scale], [scale]));
    out.push(node('Mul', names.fresh(`${label}_rescale`), [mmF, scale], [y]));
  };

  const isFloatMatrix = (name: string): boolean => {
    const t = idx.init(name);
    return t !== undefined && t.dataType === FLOAT && t.dims.length === 2;
  };
  const isQuantizedInit = (name: string): boolean => {
    const t = idx.init(name);
    return t !== undefined && (t.dataType === DATA_TYPE.int8 || t.dataType === DATA_TYPE.uint8);
  };
  const small = (name: string): boolean => elementCount(idx.init(name)!) < minElements;

  for (const n of model.graph.nodes) {
    const label = (n.name || n.outputs[0]).replace(/[^A-Za-z0-9_.\/-]/g, '_');
    if (n.domain === '' && n.opType === 'MatMul' && isFloatMatrix(n.inputs[1])) {
      if (small(n.inputs[1])) {
        skipped.push({ node: label, why: `weight has fewer than ${minElements} elements` });
        out.push(n);
        continue;
      }
      quantizedMatMul(n.inputs[0], n.inputs[1], false, n.outputs[0], label);
      matmul++;
      continue;
    }
    if (n.domain === '' && n.opType === 'Gemm' && isFloatMatrix(n.inputs[1])) {
      if (attrInt(n, 'transA', 0) !== 0) {
        skipped.push({ node: label, why: 'Gemm with transA = 1' });
        out.push(n);
        continue;
      }
      if (small(n.inputs[1])) {
        skipped.push({ node: label, why: `weight has fewer than ${minElements} elements` });
        out.push(n);
        continue;
      }
      const transB = attrInt(n, 'transB', 0) !== 0;
      const alpha = attrFloat(n, 'alpha', 1);
      const beta = attrFloat(n, 'beta', 1);
      const c = n.inputs[2] ?? '';
      const y = n.outputs[0];
      let cur = c || alpha !== 1 ? names.fresh(`${label}_matmul_out`) : y;
      quantizedMatMul(n.inputs[0], n.inputs[1], transB, cur, label);
      if (alpha !== 1) {
        const aName = names.fresh(`${label}_alpha`);
        newInits.push(floatTensor(aName, [], new Float32Array([alpha])));
        const next = c ? names.fresh(`${label}_scaled`) : y;
        out.push(node('Mul', names.fresh(`${label}_alpha_mul`), [cur, aName], [next]));
        cur = next;
      }
      if (c) {
        let bias = c;
        if (beta !== 1) {
          const cInit = idx.init(c);
          if (cInit && cInit.dataType === FLOAT) {
            const v = floatValues(cInit).map((x) => x * beta);
            bias = names.fresh(`${c}_beta`);
            newInits.push(floatTensor(bias, [...cInit.dims], v));
          } else {
            const bName = names.fresh(`${label}_beta`);
            newInits.push(floatTensor(bName, [], new Float32Array([beta])));
            bias = names.fresh(`${label}_bias_scaled`);
            out.push(node('Mul', names.fresh(`${label}_beta_mul`), [c, bName], [bias]));
          }
        }
        out.push(node('Add', names.fresh(`${label}_bias_add`), [cur, bias], [y]));
      }
      gemm++;
      continue;
    }
    // Tables narrower than 8 columns are not embeddings (the shipped models gather per-row int8 scales from [rows, 1]).
    if (n.domain === '' && n.opType === 'Gather' && isFloatMatrix(n.inputs[0]) && idx.init(n.inputs[0])!.dims[1] >= 8 && (options.embeddings ?? true)) {
      if (attrInt(n, 'axis', 0) !== 0) {
        skipped.push({ node: label, why: 'Gather along axis 1' });
        out.push(n);
        continue;
      }
      if (small(n.inputs[0])) {
        skipped.push({ node: label, why: `table has fewer than ${minElements} elements` });
        out.push(n);
        continue;
      }
      const table = n.inputs[0];
      let tq = tableCache.get(table);
      if (!tq) {
        const t = idx.init(table)!;
        const [rows, dim] = t.dims;
        const qr = quantizeRows(floatValues(t), rows, dim);
        const base = table.replace(/[^A-Za-z0-9_.\/-]/g, '_');
        tq = { q: names.fresh(`${base}_quantized`), scale: names.fresh(`${base}_scale`) };
        newInits.push(int8Tensor(tq.q, [rows, dim], qr.q), floatTensor(tq.scale, [rows, 1], qr.scales));
        tableCache.set(table, tq);
      }
      const rowsQ = names.fresh(`${label}_rows_quantized`);
      const rowsF = names.fresh(`${label}_rows_float`);
      const rowScale = names.fresh(`${label}_row_scale`);
      out.push(node('Gather', names.fresh(`${label}_quantized`), [tq.q, n.inputs[1]], [rowsQ], { axis: { kind: 'int', value: 0 } }));
      out.push(node('Cast', names.fresh(`${label}_cast`), [rowsQ], [rowsF], { to: { kind: 'int', value: FLOAT } }));
      out.push(node('Gather', names.fresh(`${label}_scale_gather`), [tq.scale, n.inputs[1]], [rowScale], { axis: { kind: 'int', value: 0 } }));
      out.push(node('Mul', names.fresh(`${label}_dequantize`), [rowsF, rowScale], [n.outputs[0]]));
      gather++;
      continue;
    }
    const readsInt8 =
      (n.opType === 'Gather' && isQuantizedInit(n.inputs[0])) ||
      n.opType === 'MatMulInteger' ||
      n.opType === 'DynamicQuantizeMatMul' ||
      (n.opType === 'DequantizeLinear' && isQuantizedInit(n.inputs[0])) ||
      ((n.opType === 'Cast' || n.opType === 'MatMul' || n.opType === 'Gemm') && n.inputs.some(isQuantizedInit));
    if (readsInt8) alreadyQuantized++;
    else if ((n.opType === 'MatMul' || n.opType === 'Gemm') && idx.init(n.inputs[1])?.dataType === FLOAT) {
      skipped.push({ node: label, why: `weight has ${idx.init(n.inputs[1])!.dims.length} dimensions (2 supported)` });
    }
    out.push(n);
  }
  model.graph.nodes = out;
  removeUnusedInitializers(model);
  return { matmul, gemm, gather, dequantized, alreadyQuantized, skipped };
}
