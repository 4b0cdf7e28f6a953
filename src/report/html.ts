/**
 * The `hubnlu report` page: one HTML file with its CSS and SVG charts inline,
 * the report data embedded as JSON (`<script type="application/json"
 * id="report-data">`), and no script at all: it opens offline, from a file,
 * and its Content-Security-Policy forbids every fetch and script. Numbers are
 * written as text with `data-metric` attributes, so a test (or a person with
 * the inspector) reads exactly what is shown.
 */
import type { ReportData } from './report-data.js';
import { COLORS, confusionHeatmap, esc, groupedBars, reliabilityDiagram, stackedBars } from './svg.js';

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const f4 = (x: number): string => x.toFixed(4);
const f3 = (x: number): string => x.toFixed(3);
const ms = (x: number): string => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;

/** JSON inside a script element: `<` escaped so no text (an utterance) can close the element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function metric(name: string, text: string, attrs: Record<string, string> = {}): string {
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` data-${k}="${esc(v)}"`)
    .join('');
  return `<span data-metric="${name}"${extra}>${esc(text)}</span>`;
}

function card(label: string, value: string, note = ''): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${value}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

function sourceLine(d: ReportData): string {
  const s = d.source;
  if (s.kind === 'file') return `the file <code>${esc(s.file)}</code>`;
  const since = s.since ? `since ${esc(s.since)}` : 'all time';
  const slots = s.unlocatedSlots > 0 ? ` (${s.unlocatedSlots} gold slots not found in their text were left out)` : '';
  return `the labelled inputs of <code>${esc(s.database)}</code>, ${since}${slots}`;
}

function summary(d: ReportData): string {
  const e = d.eval;
  const cards = [
    card('labelled rows', metric('n', String(e.n))),
    card('accuracy', metric('accuracy', pct(e.accuracy)), 'top-1, before the unknown threshold'),
    card('macro-F1', metric('macro_f1', f4(e.macro_f1))),
    card('macro-recall', metric('macro_recall', f4(e.macro_recall))),
    card('ECE', metric('ece', f4(e.ece)), '15 confidence bins'),
  ];
  if (e.slot_f1 !== undefined) cards.push(card('slot F1', metric('slot_f1', f4(e.slot_f1)), `P ${f3(e.slot_precision!)} · R ${f3(e.slot_recall!)}`));
  if (e.rejected !== undefined) {
    cards.push(card(`below threshold ${e.threshold}`, metric('rejected', pct(e.rejected)), `accuracy on the rest ${metric('accepted_accuracy', pct(e.accepted_accuracy!))}`));
  }
  cards.push(card('model time p50 / p99', `${metric('latency_p50', ms(e.latency_ms.p50))} / ${metric('latency_p99', ms(e.latency_ms.p99))}`, 'per utterance, in this evaluation'));
  const warn =
    e.unproducible_rows > 0
      ? `<p class="warn">${e.unproducible_rows} rows have gold labels the model cannot produce (${e.unproducible_labels.map((l) => `<code>${esc(l)}</code>`).join(', ')}); they count as errors.</p>`
      : '';
  return `<div class="cards">${cards.join('')}</div>${warn}`;
}

function perLabel(d: ReportData): string {
  const rows = [...d.eval.per_label].sort((a, b) => a.f1 - b.f1 || b.support - a.support || a.label.localeCompare(b.label));
  const bar = (v: number, cls: string) => `<div class="bar"><span class="fill ${cls}" style="width:${(v * 100).toFixed(1)}%"></span></div>`;
  const body = rows
    .map(
      (s) =>
        `<tr><th scope="row"><code>${esc(s.label)}</code></th>` +
        `<td>${bar(s.precision, 'p')}${metric('precision', f3(s.precision), { label: s.label })}</td>` +
        `<td>${bar(s.recall, 'r')}${metric('recall', f3(s.recall), { label: s.label })}</td>` +
        `<td class="num">${metric('f1', f3(s.f1), { label: s.label })}</td>` +
        `<td class="num">${metric('support', String(s.support), { label: s.label })}</td></tr>`,
    )
    .join('');
  return `<table class="labels"><thead><tr><th>label (worst F1 first)</th><th><span class="swatch p"></span>precision</th><th><span class="swatch r"></span>recall</th><th>F1</th><th>support</th></tr></thead><tbody>${body}</tbody></table>`;
}

function reliability(d: ReportData): string {
  const rows = d.reliability.bins
    .filter((b) => b.count > 0)
    .map((b) => `<tr><td>${b.lo.toFixed(2)}–${b.hi.toFixed(2)}</td><td class="num">${b.count}</td><td class="num">${f3(b.confidence)}</td><td class="num">${f3(b.accuracy)}</td></tr>`)
    .join('');
  return (
    `<div class="pair"><div>${reliabilityDiagram(d.reliability.bins)}</div>` +
    `<div class="aside"><p class="big">ECE ${metric('ece', f4(d.reliability.ece), { figure: 'reliability' })}</p>` +
    `<p>Blue: accuracy of the rows in each confidence bin. Red: the gap to their mean confidence (the dashed line is perfect calibration). ECE is the gap averaged over rows.</p>` +
    `<table class="bins"><thead><tr><th>confidence</th><th>rows</th><th>mean conf.</th><th>accuracy</th></tr></thead><tbody>${rows}</tbody></table></div></div>`
  );
}

function latency(d: ReportData): string {
  const l = d.latency;
  const edges = l.inference.edges;
  const cats = [...edges.map((e) => `≤${e}`), `>${edges[edges.length - 1]}`];
  const series = [];
  if (l.endToEnd) series.push({ name: `receipt to result (${l.endToEnd.n})`, color: COLORS.blue, values: l.endToEnd.counts });
  series.push({ name: `model time (${l.inference.n})`, color: COLORS.orange, values: l.inference.counts });
  const note =
    l.source === 'log'
      ? 'Answered inputs in the log window: <code>latency_ms</code> (receipt to result) and <code>inference_ms</code> (models alone).'
      : 'No log to read: model time per utterance in this evaluation.';
  return `<p class="note">${note}</p>${groupedBars(cats, series, { xTitle: 'latency (ms)', yTitle: 'inputs', ariaLabel: 'latency histogram' })}`;
}

function volume(d: ReportData): string {
  if (!d.volume) return '<p class="note">No log database: volume over time needs one (<code>--db</code> or <code>storage.path</code>).</p>';
  if (d.volume.points.length === 0) return '<p class="note">No inputs in this window.</p>';
  const fmt = (t: number) => {
    const iso = new Date(t).toISOString();
    return d.volume!.bucket === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(0, 10);
  };
  const pts = d.volume.points;
  const statuses = [
    { key: 'done', color: COLORS.blue },
    { key: 'rejected', color: COLORS.amber },
    { key: 'error', color: COLORS.red },
    { key: 'pending', color: COLORS.grey },
  ] as const;
  const series = statuses.map((s) => ({ name: s.key, color: s.color, values: pts.map((p) => p.counts[s.key]) }));
  const total = pts.reduce((a, p) => a + p.counts.done + p.counts.rejected + p.counts.error + p.counts.pending, 0);
  return `<p class="note">${metric('volume_total', String(total))} inputs, per ${d.volume.bucket} (UTC), by status.</p>${stackedBars(pts.map((p) => fmt(p.start)), series, { yTitle: `inputs per ${d.volume.bucket}`, ariaLabel: 'volume over time' })}`;
}

function confusions(d: ReportData): string {
  if (d.topConfusions.length === 0) return '<p class="note">No confusions: every row was predicted right.</p>';
  const rows = d.topConfusions
    .map((c) => {
      const ex = c.examples.map((e) => `<li>“${esc(e.text)}” <span class="conf">${f3(e.confidence)}</span></li>`).join('');
      return `<tr><td><code>${esc(c.gold)}</code></td><td><code>${esc(c.predicted)}</code></td><td class="num">${metric('confused_count', String(c.count), { gold: c.gold, predicted: c.predicted })}</td><td><ul>${ex}</ul></td></tr>`;
    })
    .join('');
  return `<table class="confusions"><thead><tr><th>gold</th><th>predicted</th><th>rows</th><th>examples (confidence of the wrong label)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2937;background:#f3f4f6}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 18px;margin:16px 0;overflow-x:auto}
.sub{color:#4b5563;margin:0}code{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace;background:#f3f4f6;padding:0 3px;border-radius:3px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{flex:1 1 150px;border:1px solid #e5e7eb;border-radius:6px;padding:10px 12px;background:#fafafa}
.card .label{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.card .note,.note{font-size:12px;color:#6b7280}
.warn{background:#fef3c7;border:1px solid #f59e0b;border-radius:6px;padding:8px 10px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f0f0f0;vertical-align:top}
thead th{font-size:12px;color:#6b7280;font-weight:600}
td.num{text-align:right}
table.labels td{min-width:190px}table.labels td.num{min-width:0}
.bar{display:inline-block;width:120px;height:10px;background:#f3f4f6;border-radius:2px;margin-right:8px;vertical-align:middle;overflow:hidden}
.fill{display:block;height:100%}.fill.p,.swatch.p{background:#2563eb}.fill.r,.swatch.r{background:#ea7a12}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.pair{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}.aside{flex:1 1 300px}
.big{font-size:18px;font-weight:600}
table.bins td,table.bins th{padding:2px 8px;font-size:12.5px}
table.confusions ul{margin:0;padding-left:18px}.conf{color:#6b7280;font-size:12px}
svg.chart{display:block;max-width:none}
svg .tick{font-size:11px;fill:#374151}svg .small{font-size:10px;fill:#374151}svg .axis-title{font-size:12px;fill:#111827;font-weight:600}
footer{color:#6b7280;font-size:12px;margin-top:20px}
`;

export function renderReportHtml(d: ReportData): string {
  const e = d.eval;
  const title = `hubnlu ${e.task} report: ${e.model.name}@${e.model.version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${esc(title)}</h1>
<p class="sub">${e.n} labelled rows from ${sourceLine(d)} · generated ${esc(d.generatedAt)}</p>
</header>
<section id="summary"><h2>Summary</h2>${summary(d)}</section>
<section id="confusion"><h2>Confusion matrix</h2><p class="note">Rows: gold label; columns: predicted top-1 label. Colour: share of the gold row (blue right, red wrong). Hover a cell for its share.</p>${confusionHeatmap(d.confusion.labels, d.confusion.counts)}</section>
<section id="per-label"><h2>Precision and recall per ${e.task === 'intent' ? 'intent' : 'label'}</h2>${perLabel(d)}</section>
<section id="top-confusions"><h2>Top confusions</h2>${confusions(d)}</section>
<section id="reliability"><h2>Reliability diagram</h2>${reliability(d)}</section>
<section id="latency"><h2>Latency</h2>${latency(d)}</section>
<section id="volume"><h2>Volume over time</h2>${volume(d)}</section>
<footer>The figures come from the same evaluation <code>hubnlu eval --json</code> prints; the data is embedded in this page as JSON (<code>#report-data</code>).</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript(d)}</script>
</body>
</html>
`;
}
