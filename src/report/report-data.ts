/**
 * Everything `hubnlu report` draws, as one JSON-able object built from the
 * evaluation report (the same `EvalReport` that `hubnlu eval --json` prints)
 * and, when there is a log, its latency and volume figures. The page embeds
 * this object as it is, and every number on the page is read from it.
 */
import type { EvalPrediction, EvalReport } from '../eval/evaluate.js';
import { reliabilityBins, type ReliabilityBin } from '../eval/metrics.js';
import { histogram, type Histogram, type LogFigures } from '../store/report-queries.js';

export type ReportSource =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'log'; readonly database: string; readonly since: string | null; readonly unlocatedSlots: number };

export interface ConfusionExample {
  readonly text: string;
  readonly confidence: number;
}

export interface TopConfusion {
  readonly gold: string;
  readonly predicted: string;
  readonly count: number;
  /** Up to EXAMPLES utterances, most confident (most misleading) first. */
  readonly examples: readonly ConfusionExample[];
}

export interface ReportData {
  readonly format: 'hubnlu-report/1';
  readonly generatedAt: string;
  readonly source: ReportSource;
  /** The evaluation, as `hubnlu eval --json` prints it (without the per-row predictions). */
  readonly eval: Omit<EvalReport, 'predictions'>;
  /** Gold labels (rows) × predicted top-1 labels (columns), over every label seen on either side. */
  readonly confusion: { readonly labels: readonly string[]; readonly counts: readonly (readonly number[])[] };
  readonly reliability: { readonly bins: readonly ReliabilityBin[]; readonly ece: number };
  readonly topConfusions: readonly TopConfusion[];
  /** Latency histograms: from the log when there is one, else the evaluation's own per-row model time. */
  readonly latency: { readonly source: 'log' | 'evaluation'; readonly endToEnd?: Histogram; readonly inference: Histogram };
  /** Inputs over time by status (null without a log). */
  readonly volume: LogFigures['volume'] | null;
}

export const EXAMPLES = 3;

export interface BuildOptions {
  readonly source: ReportSource;
  /** The evaluation, with `predictions` (evaluate(..., { keepPredictions: true })). */
  readonly report: EvalReport;
  readonly log?: LogFigures;
  readonly now?: Date;
}

export function buildReportData(opts: BuildOptions): ReportData {
  const { predictions, ...evalReport } = opts.report;
  if (!predictions) throw new Error('the report needs per-row predictions: evaluate with keepPredictions');
  return {
    format: 'hubnlu-report/1',
    generatedAt: (opts.now ?? new Date()).toISOString(),
    source: opts.source,
    eval: evalReport,
    confusion: confusionMatrix(predictions),
    reliability: {
      bins: reliabilityBins(
        predictions.map((p) => p.confidence),
        predictions.map((p) => p.correct),
      ),
      ece: evalReport.ece,
    },
    topConfusions: topConfusions(predictions, evalReport.confused),
    latency: opts.log
      ? { source: 'log', endToEnd: opts.log.latency.endToEnd, inference: opts.log.latency.inference }
      : { source: 'evaluation', inference: histogram(predictions.map((p) => p.latency_ms)) },
    volume: opts.log ? opts.log.volume : null,
  };
}

/** Counts of (gold, predicted top-1) over the labels of `classificationMetrics` (gold ∪ predicted, sorted). */
export function confusionMatrix(predictions: readonly EvalPrediction[]): ReportData['confusion'] {
  const labels = [...new Set(predictions.flatMap((p) => [p.gold, p.predicted]))].sort();
  const index = new Map(labels.map((l, i) => [l, i]));
  const counts = labels.map(() => new Array<number>(labels.length).fill(0));
  for (const p of predictions) counts[index.get(p.gold)!][index.get(p.predicted)!]++;
  return { labels, counts };
}

/** The evaluation's most confused pairs (its order), each with example utterances. */
export function topConfusions(predictions: readonly EvalPrediction[], confused: EvalReport['confused']): TopConfusion[] {
  return confused.map((c) => {
    const examples = predictions
      .filter((p) => p.gold === c.gold && p.predicted === c.predicted)
      .sort((a, b) => b.confidence - a.confidence)
      .slice(0, EXAMPLES)
      .map((p) => ({ text: p.text, confidence: p.confidence }));
    return { gold: c.gold, predicted: c.predicted, count: c.count, examples };
  });
}
