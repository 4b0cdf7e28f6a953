/**
 * The charts of `hubnlu report` as plain SVG strings: no library, no script,
 * nothing fetched. Every function takes plain numbers and labels and escapes
 * every text it writes (labels and utterances come from the log).
 */

export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const n2 = (x: number): string => (Math.round(x * 100) / 100).toString();

export const COLORS = {
  blue: '#2563eb',
  orange: '#ea7a12',
  red: '#dc2626',
  grey: '#9ca3af',
  amber: '#f59e0b',
  ink: '#1f2937',
  faint: '#e5e7eb',
} as const;

/** A rough text width (px) for label margins: ~0.6 em a character. */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/**
 * Confusion-matrix heat map: rows are gold labels, columns predicted ones. A
 * cell's colour is its share of the gold row (blue on the diagonal, red off
 * it); its count is written in it.
 */
export function confusionHeatmap(labels: readonly string[], counts: readonly (readonly number[])[]): string {
  const L = labels.length;
  const cell = Math.max(12, Math.min(34, Math.floor(620 / Math.max(1, L))));
  const font = Math.max(7, Math.min(12, Math.floor(cell * 0.45)));
  const labelFont = Math.max(8, Math.min(12, cell - 3));
  const longest = Math.max(4, ...labels.map((l) => textWidth(l, labelFont)));
  // Column labels stand upright when the cells are narrow, slanted when there is room.
  const angle = cell < 24 ? -90 : -50;
  const left = Math.ceil(longest) + 34;
  const top = Math.ceil(longest * (angle === -90 ? 1 : 0.8)) + 30;
  const width = left + L * cell + 10;
  const height = top + L * cell + 10;
  const out: string[] = [];
  out.push(`<svg class="chart" role="img" aria-label="confusion matrix" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<text x="${left + (L * cell) / 2}" y="12" text-anchor="middle" class="axis-title">predicted</text>`);
  out.push(`<text transform="translate(12 ${top + (L * cell) / 2}) rotate(-90)" text-anchor="middle" class="axis-title">gold</text>`);
  for (let j = 0; j < L; j++) {
    const x = left + j * cell + cell / 2;
    out.push(`<text transform="translate(${n2(x + labelFont / 3)} ${top - 6}) rotate(${angle})" font-size="${labelFont}" class="tick">${esc(labels[j])}</text>`);
  }
  for (let i = 0; i < L; i++) {
    const y = top + i * cell;
    const rowTotal = counts[i].reduce((a, b) => a + b, 0);
    out.push(`<text x="${left - 6}" y="${n2(y + cell / 2 + labelFont / 3)}" text-anchor="end" font-size="${labelFont}" class="tick">${esc(labels[i])}</text>`);
    for (let j = 0; j < L; j++) {
      const count = counts[i][j];
      const x = left + j * cell;
      const share = rowTotal > 0 ? count / rowTotal : 0;
      const alpha = count > 0 ? 0.15 + 0.85 * share : 0;
      const rgb = i === j ? '37,99,235' : '220,38,38';
      const fill = count > 0 ? `rgba(${rgb},${n2(alpha)})` : '#f9fafb';
      const tip = `${labels[i]} → ${labels[j]}: ${count}${rowTotal > 0 ? ` (${(share * 100).toFixed(1)} % of ${labels[i]})` : ''}`;
      out.push(`<g><title>${esc(tip)}</title><rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="${COLORS.faint}" stroke-width="0.5"/>`);
      if (count > 0) {
        const ink = alpha > 0.55 ? '#ffffff' : COLORS.ink;
        out.push(
          `<text x="${n2(x + cell / 2)}" y="${n2(y + cell / 2 + font / 3)}" text-anchor="middle" font-size="${font}" fill="${ink}" data-metric="confusion" data-gold="${esc(labels[i])}" data-predicted="${esc(labels[j])}">${count}</text>`,
        );
      }
      out.push('</g>');
    }
  }
  out.push('</svg>');
  return out.join('');
}

export interface Bin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  readonly confidence: number;
  readonly accuracy: number;
}

/**
 * Reliability diagram: for each confidence bin with examples, a bar at its
 * accuracy and a red band up (or down) to its mean confidence; a perfectly
 * calibrated model follows the dashed diagonal.
 */
export function reliabilityDiagram(bins: readonly Bin[]): string {
  const W = 420;
  const H = 340;
  const m = { l: 46, r: 12, t: 14, b: 42 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const X = (v: number) => m.l + v * pw;
  const Y = (v: number) => m.t + (1 - v) * ph;
  const out: string[] = [];
  out.push(`<svg class="chart" role="img" aria-label="reliability diagram" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(axes(X, Y, m, pw, ph, 'confidence (top-1)', 'accuracy'));
  for (const b of bins) {
    if (b.count === 0) continue;
    const x = X(b.lo) + 1;
    const w = X(b.hi) - X(b.lo) - 2;
    out.push(`<g><title>${esc(`confidence ${b.lo.toFixed(2)}–${b.hi.toFixed(2)}: ${b.count} rows, mean confidence ${b.confidence.toFixed(3)}, accuracy ${b.accuracy.toFixed(3)}`)}</title>`);
    out.push(`<rect x="${n2(x)}" y="${n2(Y(b.accuracy))}" width="${n2(w)}" height="${n2(Y(0) - Y(b.accuracy))}" fill="${COLORS.blue}" fill-opacity="0.85"/>`);
    const lo = Math.min(b.accuracy, b.confidence);
    const hi = Math.max(b.accuracy, b.confidence);
    out.push(`<rect x="${n2(x)}" y="${n2(Y(hi))}" width="${n2(w)}" height="${n2(Math.max(0.5, Y(lo) - Y(hi)))}" fill="${COLORS.red}" fill-opacity="0.35" stroke="${COLORS.red}" stroke-width="0.8"/>`);
    out.push(`<text x="${n2(x + w / 2)}" y="${n2(Y(hi) - 3)}" text-anchor="middle" class="small">${b.count}</text></g>`);
  }
  out.push(`<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="${COLORS.ink}" stroke-dasharray="4 3" stroke-width="1"/>`);
  out.push('</svg>');
  return out.join('');
}

function axes(X: (v: number) => number, Y: (v: number) => number, m: { l: number; b: number; t: number }, pw: number, ph: number, xTitle: string, yTitle: string): string {
  const out: string[] = [];
  for (let k = 0; k <= 5; k++) {
    const v = k / 5;
    out.push(`<line x1="${X(0)}" y1="${n2(Y(v))}" x2="${X(1)}" y2="${n2(Y(v))}" stroke="${COLORS.faint}"/>`);
    out.push(`<text x="${X(0) - 6}" y="${n2(Y(v) + 4)}" text-anchor="end" class="tick">${v.toFixed(1)}</text>`);
    out.push(`<text x="${n2(X(v))}" y="${Y(0) + 16}" text-anchor="middle" class="tick">${v.toFixed(1)}</text>`);
  }
  out.push(`<text x="${n2(m.l + pw / 2)}" y="${Y(0) + 34}" text-anchor="middle" class="axis-title">${esc(xTitle)}</text>`);
  out.push(`<text transform="translate(12 ${n2(m.t + ph / 2)}) rotate(-90)" text-anchor="middle" class="axis-title">${esc(yTitle)}</text>`);
  return out.join('');
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

/** Grouped vertical bars: one group per category, one bar per series, counts written above. */
export function groupedBars(categories: readonly string[], series: readonly Series[], opts: { yTitle: string; xTitle: string; ariaLabel: string }): string {
  const W = Math.max(560, 70 + categories.length * Math.max(46, series.length * 16 + 14));
  const H = 300;
  const m = { l: 54, r: 12, t: 30, b: 54 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const niceMax = niceCeil(max);
  const groupW = pw / Math.max(1, categories.length);
  const barW = Math.max(3, Math.min(22, (groupW - 8) / Math.max(1, series.length)));
  const Y = (v: number) => m.t + (1 - v / niceMax) * ph;
  const out: string[] = [];
  out.push(`<svg class="chart" role="img" aria-label="${esc(opts.ariaLabel)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(...valueGrid(niceMax, Y, m.l, W - m.r));
  categories.forEach((c, i) => {
    const gx = m.l + i * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const x = gx + k * barW;
      out.push(`<g><title>${esc(`${s.name}, ${c}: ${v}`)}</title><rect x="${n2(x)}" y="${n2(Y(v))}" width="${n2(barW - 1)}" height="${n2(Y(0) - Y(v))}" fill="${s.color}"/>`);
      if (v > 0) out.push(`<text x="${n2(x + barW / 2)}" y="${n2(Y(v) - 3)}" text-anchor="middle" class="small">${esc(compact(v))}</text>`);
      out.push('</g>');
    });
    out.push(`<text x="${n2(m.l + i * groupW + groupW / 2)}" y="${H - m.b + 16}" text-anchor="middle" class="tick">${esc(c)}</text>`);
  });
  out.push(`<text x="${n2(m.l + pw / 2)}" y="${H - 10}" text-anchor="middle" class="axis-title">${esc(opts.xTitle)}</text>`);
  out.push(`<text transform="translate(12 ${n2(m.t + ph / 2)}) rotate(-90)" text-anchor="middle" class="axis-title">${esc(opts.yTitle)}</text>`);
  out.push(legend(series, m.l, 14));
  out.push('</svg>');
  return out.join('');
}

/** Five horizontal grid lines from 0 to `niceMax`, each with its value at the left edge. */
function valueGrid(niceMax: number, Y: (v: number) => number, left: number, right: number): string[] {
  const out: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (niceMax * k) / 4;
    out.push(`<line x1="${left}" y1="${n2(Y(v))}" x2="${right}" y2="${n2(Y(v))}" stroke="${COLORS.faint}"/>`);
    out.push(`<text x="${left - 6}" y="${n2(Y(v) + 4)}" text-anchor="end" class="tick">${esc(compact(v))}</text>`);
  }
  return out;
}

/** Stacked vertical bars over time: one bar per bucket, one segment per series. */
export function stackedBars(times: readonly string[], series: readonly Series[], opts: { yTitle: string; ariaLabel: string }): string {
  const W = 900;
  const H = 280;
  const m = { l: 54, r: 12, t: 30, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const totals = times.map((_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const niceMax = niceCeil(Math.max(1, ...totals));
  const step = pw / Math.max(1, times.length);
  const barW = Math.max(1, Math.min(48, step * 0.8));
  const Y = (v: number) => m.t + (1 - v / niceMax) * ph;
  const out: string[] = [];
  out.push(`<svg class="chart" role="img" aria-label="${esc(opts.ariaLabel)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(...valueGrid(niceMax, Y, m.l, W - m.r));
  times.forEach((t, i) => {
    const x = m.l + i * step + (step - barW) / 2;
    let base = 0;
    const parts = series.map((s) => `${s.name} ${s.values[i] ?? 0}`).join(', ');
    out.push(`<g><title>${esc(`${t}: ${totals[i]} (${parts})`)}</title>`);
    for (const s of series) {
      const v = s.values[i] ?? 0;
      if (v > 0) out.push(`<rect x="${n2(x)}" y="${n2(Y(base + v))}" width="${n2(barW)}" height="${n2(Y(base) - Y(base + v))}" fill="${s.color}"/>`);
      base += v;
    }
    // An invisible full-height target so the tooltip works on empty buckets too.
    out.push(`<rect x="${n2(x)}" y="${m.t}" width="${n2(barW)}" height="${ph}" fill="transparent"/></g>`);
  });
  const ticks = Math.min(times.length, 6);
  for (let k = 0; k < ticks; k++) {
    const i = ticks === 1 ? 0 : Math.round((k * (times.length - 1)) / (ticks - 1));
    out.push(`<text x="${n2(m.l + i * step + step / 2)}" y="${H - m.b + 16}" text-anchor="middle" class="tick">${esc(times[i])}</text>`);
  }
  out.push(`<text transform="translate(12 ${n2(m.t + ph / 2)}) rotate(-90)" text-anchor="middle" class="axis-title">${esc(opts.yTitle)}</text>`);
  out.push(legend(series, m.l, 14));
  out.push('</svg>');
  return out.join('');
}

function legend(series: readonly Series[], x0: number, y: number): string {
  let x = x0;
  const out: string[] = [];
  for (const s of series) {
    out.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${s.color}"/><text x="${x + 14}" y="${y}" class="tick">${esc(s.name)}</text>`);
    x += 24 + textWidth(s.name, 11);
  }
  return out.join('');
}

/** 1, 2, 5 × 10^k at or above x. */
export function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const f of [1, 2, 5, 10]) if (f * p >= x) return f * p;
  return 10 * p;
}

function compact(v: number): string {
  if (v >= 1e6) return `${n2(v / 1e6)}M`;
  if (v >= 1e4) return `${n2(v / 1e3)}k`;
  return n2(v);
}
