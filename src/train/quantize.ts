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

export function quantizeRows(values: Float32Array, numRows: number, dim: number): QuantizedRows {
  if (values.length !== numRows * dim) throw new RangeError(`quantizeRows: ${values.length} values is not ${numRows} × ${dim}`);
  const q = new Int8Array(values.length);
  const scales = new Float32Array(numRows);
  for (let r = 0; r < numRows; r++) {
    const off = r * dim;
    let max = 0;
    for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(values[off + d]));
    // Math.fround: the scale is stored as float32, so quantise against the stored value.
    const s = Math.fround(max / 127);
    scales[r] = s;
    if (s === 0) continue;
    for (let d = 0; d < dim; d++) {
      q[off + d] = Math.max(-127, Math.min(127, Math.round(values[off + d] / s)));
    }
  }
  return { q, scales, numRows, dim };
}

export function dequantizeRows(qr: QuantizedRows): Float32Array {
  const out = new Float32Array(qr.q.length);
  for (let r = 0; r < qr.numRows; r++) {
    const s = qr.scales[r];
    for (let d = 0; d < qr.dim; d++) out[r * qr.dim + d] = qr.q[r * qr.dim + d] * s;
  }
  return out;
}
