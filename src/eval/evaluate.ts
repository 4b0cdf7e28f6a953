/**
 * Runs an analyzer over labelled rows and computes every metric `hubnlu
 * eval` reports. Each utterance goes through the same path the agent uses
 * (`Analyzer.analyze`: whatever backend serves the task, calibration, the
 * unknown threshold, slots), timed one at a time. Written against the
 * Analyzer interface, so a registry, a language router, a live model slot or
 * a household candidate are all evaluated the same way.
 */
import type { LabelledRow } from '../data/rows.js';
import type { TextClassifier } from '../model/classifier.js';
import { tokenize } from '../model/text.js';
import { normalizeSlotValue, slotKey } from '../model/slot-values.js';
import type { Analyzer, TaskName } from '../model/types.js';
import {
  classificationMetrics,
  countSlots,
  expectedCalibrationError,
  percentile,
  slotF1,
  type ClassificationMetrics,
  type SlotCounts,
} from './metrics.js';

export interface EvalReport {
  readonly task: TaskName;
  readonly file?: string;
  readonly model: { readonly name: string; readonly version: string };
  readonly n: number;
  /** Top-1 accuracy (the threshold does not apply; see `rejected`). */
  readonly accuracy: number;
  readonly macro_f1: number;
  readonly macro_recall: number;
  /** Slot F1 (intent only): exact type + normalised value, micro-averaged. */
  readonly slot_f1?: number;
  readonly slot_precision?: number;
  readonly slot_recall?: number;
  readonly slot_counts?: SlotCounts;
  /** Expected calibration error of the calibrated top-1 confidence. */
  readonly ece: number;
  readonly latency_ms: { readonly p50: number; readonly p99: number; readonly mean: number };
  /** Intent only: share of utterances whose top confidence is below the unknown threshold, and accuracy on the rest. */
  readonly threshold?: number;
  readonly rejected?: number;
  readonly accepted_accuracy?: number;
  /** Gold labels the model has no output for (every such row is an error). */
  readonly unproducible_labels: readonly string[];
  readonly unproducible_rows: number;
  readonly per_label: ClassificationMetrics['perLabel'];
  readonly confused: ClassificationMetrics['confused'];
  /** Each row's outcome, in row order (only with `keepPredictions`): for paired tests, reports and error analysis. */
  readonly predictions?: readonly EvalPrediction[];
}

export interface EvalPrediction {
  readonly text: string;
  readonly gold: string;
  /** Top-1 label (before the unknown threshold). */
  readonly predicted: string;
  /** What the agent would have reported (`unknown` below the threshold). */
  readonly reported: string;
  readonly confidence: number;
  readonly correct: boolean;
  readonly latency_ms: number;
}

export interface EvaluateOptions {
  readonly file?: string;
  /** Warm-up utterances before timing (first ONNX runs allocate). */
  readonly warmup?: number;
  /** The language to analyse every row as (a language router otherwise detects it). */
  readonly lang?: string;
  /** Per row (same order as the rows), the language to analyse it as; wins over `lang`; null: `lang` or detection. */
  readonly rowLangs?: readonly (string | null)[];
  /** Overrides the analyzer's unknown threshold in the report. */
  readonly threshold?: number;
  /** Keep each row's outcome in `predictions`. */
  readonly keepPredictions?: boolean;
}

export async function evaluate(analyzer: Analyzer, task: TaskName, rows: readonly LabelledRow[], opts: EvaluateOptions = {}): Promise<EvalReport> {
  const labels = new Set(analyzer.labels(task));
  if (labels.size === 0) throw new Error(`no ${task} model is loaded; pass --model DIR`);
  const analyzeOptions = (i: number) => {
    const lang = opts.rowLangs?.[i] ?? opts.lang;
    return lang ? { lang, langSource: 'route' as const } : undefined;
  };
  const analyze = (text: string, i: number) => analyzer.analyze(text, [task], analyzeOptions(i));
  for (const [i, r] of rows.slice(0, opts.warmup ?? 20).entries()) await analyze(r.text, i);
  const threshold = opts.threshold ?? analyzer.unknownThreshold;
  const modelRefs = new Map<string, { name: string; version: string }>();
  const predictions: EvalPrediction[] = [];

  const gold: string[] = [];
  const pred: string[] = [];
  const conf: number[] = [];
  const correct: boolean[] = [];
  const latency: number[] = [];
  let slots: SlotCounts = { tp: 0, gold: 0, predicted: 0 };
  let rejected = 0;
  let acceptedCorrect = 0;
  for (const [i, r] of rows.entries()) {
    const t0 = performance.now();
    const a = await analyze(r.text, i);
    const ms = performance.now() - t0;
    latency.push(ms);
    for (const m of a.models) if (m.task === task) modelRefs.set(`${m.name}@${m.version}`, { name: m.name, version: m.version });
    let top: string;
    let confidence: number;
    let reported: string;
    if (task === 'intent') {
      if (!a.intent) throw new Error(`no intent model serves ${JSON.stringify(r.text)} (${a.reason ?? 'no result'}); pass --lang or a model for its language`);
      const it = a.intent;
      top = it.alternatives[0]?.name ?? it.name;
      confidence = it.alternatives[0]?.confidence ?? it.confidence;
      reported = it.name;
      if (it.name === 'unknown') rejected++;
      else if (it.name === r.label) acceptedCorrect++;
      const goldKeys = r.slots.map((s) => slotKey(s.type, normalizeSlotValue(s.type, r.text.slice(s.start, s.end))));
      const predKeys = it.slots.map((s) => slotKey(s.type, s.unit ? { value: s.value, unit: s.unit } : { value: s.value }));
      slots = countSlots(goldKeys, predKeys, slots);
    } else {
      if (!a.sentiment) throw new Error(`no sentiment model serves ${JSON.stringify(r.text)} (${a.reason ?? 'no result'}); pass --lang or a model for its language`);
      const s = a.sentiment;
      top = s.label;
      confidence = s.score;
      reported = top;
    }
    if (opts.keepPredictions) predictions.push({ text: r.text, gold: r.label, predicted: top, reported, confidence, correct: top === r.label, latency_ms: ms });
    gold.push(r.label);
    pred.push(top);
    conf.push(confidence);
    correct.push(top === r.label);
  }
  const m = classificationMetrics(gold, pred);
  const unproducible = [...new Set(gold.filter((g) => !labels.has(g)))].sort();
  const base = {
    task,
    file: opts.file,
    model: modelOf(modelRefs),
    n: m.n,
    accuracy: m.accuracy,
    macro_f1: m.macroF1,
    macro_recall: m.macroRecall,
    ece: expectedCalibrationError(conf, correct),
    latency_ms: {
      p50: percentile(latency, 50),
      p99: percentile(latency, 99),
      mean: latency.reduce((x, y) => x + y, 0) / Math.max(1, latency.length),
    },
    unproducible_labels: unproducible,
    unproducible_rows: gold.filter((g) => !labels.has(g)).length,
    per_label: m.perLabel,
    confused: m.confused,
    ...(opts.keepPredictions ? { predictions } : {}),
  };
  if (task !== 'intent') return base;
  const sf = slotF1(slots);
  const accepted = m.n - rejected;
  return {
    ...base,
    slot_f1: sf.f1,
    slot_precision: sf.precision,
    slot_recall: sf.recall,
    slot_counts: slots,
    threshold,
    rejected: m.n > 0 ? rejected / m.n : 0,
    accepted_accuracy: accepted > 0 ? acceptedCorrect / accepted : 0,
  };
}

/** The model that answered; several (a language router over mixed rows) are listed together. */
function modelOf(refs: ReadonlyMap<string, { name: string; version: string }>): { name: string; version: string } {
  const all = [...refs.values()];
  if (all.length === 1) return all[0];
  if (all.length === 0) return { name: 'none', version: '-' };
  return { name: all.map((r) => r.name).join('+'), version: all.map((r) => r.version).join('+') };
}

const pct = (x: number): string => (x * 100).toFixed(2);

/** A human-readable report: summary, per-label table, most confused pairs. */
export function formatReport(r: EvalReport, opts: { perLabel?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`${r.task} model ${r.model.name}@${r.model.version}${r.file ? ` on ${r.file}` : ''}: ${r.n} utterances`);
  lines.push('');
  const rows: [string, string][] = [
    ['accuracy', `${pct(r.accuracy)} %`],
    ['macro-F1', r.macro_f1.toFixed(4)],
    ['macro-recall', r.macro_recall.toFixed(4)],
  ];
  if (r.slot_f1 !== undefined) {
    rows.push(['slot F1', `${r.slot_f1.toFixed(4)} (P ${r.slot_precision!.toFixed(4)}, R ${r.slot_recall!.toFixed(4)}; ${r.slot_counts!.gold} gold, ${r.slot_counts!.predicted} predicted)`]);
  }
  rows.push(['ECE (15 bins)', r.ece.toFixed(4)]);
  if (r.threshold !== undefined) {
    rows.push([`below threshold ${r.threshold}`, `${pct(r.rejected!)} % (accuracy on the rest ${pct(r.accepted_accuracy!)} %)`]);
  }
  rows.push(['latency p50 / p99', `${r.latency_ms.p50.toFixed(3)} / ${r.latency_ms.p99.toFixed(3)} ms`]);
  if (r.unproducible_rows > 0) {
    rows.push(['labels the model lacks', `${r.unproducible_labels.join(', ')} (${r.unproducible_rows} rows, counted as errors)`]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(w)}  ${v}`);
  if (opts.perLabel !== false) {
    lines.push('');
    const lw = Math.max(5, ...r.per_label.map((s) => s.label.length));
    lines.push(`  ${'label'.padEnd(lw)}  precision  recall     F1  support`);
    for (const s of r.per_label) {
      lines.push(`  ${s.label.padEnd(lw)}  ${s.precision.toFixed(3).padStart(9)}  ${s.recall.toFixed(3).padStart(6)}  ${s.f1.toFixed(3).padStart(5)}  ${String(s.support).padStart(7)}`);
    }
  }
  if (r.confused.length > 0) {
    lines.push('');
    lines.push('  most confused (gold → predicted):');
    for (const c of r.confused) lines.push(`    ${String(c.count).padStart(4)}  ${c.gold} → ${c.predicted}`);
  }
  return lines.join('\n');
}

export interface ClassifierEval {
  readonly n: number;
  readonly accuracy: number;
  readonly macro_f1: number;
  readonly macro_recall: number;
  readonly ece: number;
  readonly latency_ms: { readonly p50: number; readonly p99: number };
}

/**
 * The classifier alone (tokenize + featurize + ONNX + temperature), without
 * slots or thresholds: used to compare fp32 and int8 exports of one model.
 */
export async function evaluateClassifier(clf: TextClassifier, rows: readonly LabelledRow[]): Promise<ClassifierEval> {
  for (const r of rows.slice(0, 20)) await clf.classify(tokenize(r.text), r.text);
  const gold: string[] = [];
  const pred: string[] = [];
  const conf: number[] = [];
  const latency: number[] = [];
  for (const r of rows) {
    const t0 = performance.now();
    const c = await clf.classify(tokenize(r.text), r.text);
    latency.push(performance.now() - t0);
    gold.push(r.label);
    pred.push(c.ranked[0].name);
    conf.push(c.ranked[0].confidence);
  }
  const m = classificationMetrics(gold, pred);
  return {
    n: m.n,
    accuracy: m.accuracy,
    macro_f1: m.macroF1,
    macro_recall: m.macroRecall,
    ece: expectedCalibrationError(conf, gold.map((g, i) => g === pred[i])),
    latency_ms: { p50: percentile(latency, 50), p99: percentile(latency, 99) },
  };
}
