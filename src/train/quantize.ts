/**
 * Symmetric int8 quantisation with one float scale per row: each embedding row
 * is stored as round(row / s) with s = max|row| / 127, so the error of any
 * element is at most s / 2 and a row's largest weight is kept exactly.
 * Per-row (not per-tensor) scales matter here: rare-feature rows are tiny and
 * frequent ones large, and a single scale would flush the small ones to zero.
 */

export interface QuantizedRows {
  readonly q: Int8Array;
  readonly scales: Float32Array;
  readonly numRows: number;
  readonly dim: number;
}

export interface QuantizeOptions {
  /**
   * Largest |q| (default 127). 63 ("reduced range", 7-bit weights) keeps
   * uint8 × int8 products of two neighbours within int16, which AVX2 kernels
   * without VNNI need to avoid saturating.
   */
  readonly range?: number;
}

export function quantizeRows(values: Float32Array, numRows: number, dim: number, options: QuantizeOptions = {}): QuantizedRows {
  if (values.length !== numRows * dim) throw new RangeError(`quantizeRows: ${values.length} values is not ${numRows} × ${dim}`);
  const range = options.range ?? 127;
  const q = new Int8Array(values.length);
  const scales = new Float32Array(numRows);
  for (let r = 0; r < numRows; r++) {
    const off = r * dim;
    let max = 0;
    for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(values[off + d]));
    // Math.fround: the scale is stored as float32, so quantise against the stored value.
    const s = Math.fround(max / range);
    scales[r] = s;
    if (s === 0) continue;
    for (let d = 0; d < dim; d++) {
      q[off + d] = Math.max(-range, Math.min(range, Math.round(values[off + d] / s)));
    }
  }
  return { q, scales, numRows, dim };
}

/**
 * Per-column quantisation of a row-major [rows, cols] matrix (the output
 * channels of a MatMul weight [in, out]): one scale per column, same rule as
 * `quantizeRows` (it is `quantizeRows` of the transpose, transposed back).
 * `scales` has `cols` entries; `q` keeps the [rows, cols] layout.
 */
export function quantizeColumns(values: Float32Array, rows: number, cols: number, options: QuantizeOptions = {}): { q: Int8Array; scales: Float32Array } {
  if (values.length !== rows * cols) throw new RangeError(`quantizeColumns: ${values.length} values is not ${rows} × ${cols}`);
  const t = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = values[r * cols + c];
  const qt = quantizeRows(t, cols, rows, options);
  const q = new Int8Array(values.length);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) q[r * cols + c] = qt.q[c * rows + r];
  return { q, scales: qt.scales };
}

export function dequantizeRows(qr: QuantizedRows): Float32Array {
  const out = new Float32Array(qr.q.length);
  for (let r = 0; r < qr.numRows; r++) {
    const s = qr.scales[r];
    for (let d = 0; d < qr.dim; d++) out[r * qr.dim + d] = qr.q[r * qr.dim + d] * s;
  }
  return out;
}
