/**
 * What an unknown threshold costs and buys: for each candidate, the share of
 * in-domain dev utterances rejected (and how many of those were wrong anyway),
 * the accuracy on the rest, and the share of synthetic gibberish rejected.
 * Used to choose and document the default `models.unknownThreshold`.
 */
import type { ModelRegistry } from '../model/registry.js';
import type { LabelledRow } from '../data/rows.js';
import { mulberry32 } from '../data/random.js';

export interface ThresholdPoint {
  readonly threshold: number;
  readonly devRejected: number;
  readonly devAcceptedAccuracy: number;
  /** Of the rejected dev utterances, the share the model had wrong. */
  readonly devRejectedWrong: number;
  readonly gibberishRejected: number;
}

/** Seeded random letter strings of 1–4 "words" of 3–8 letters. */
export function gibberish(n: number, seed: number): string[] {
  const rand = mulberry32(seed);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const words: string[] = [];
    const k = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < k; j++) {
      let w = '';
      const len = 3 + Math.floor(rand() * 6);
      for (let c = 0; c < len; c++) w += letters[Math.floor(rand() * 26)];
      words.push(w);
    }
    out.push(words.join(' '));
  }
  return out;
}

export async function thresholdCurve(
  registry: ModelRegistry,
  dev: readonly LabelledRow[],
  thresholds: readonly number[] = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
  opts: { gibberish?: number; seed?: number } = {},
): Promise<ThresholdPoint[]> {
  const devScores: { confidence: number; correct: boolean }[] = [];
  for (const r of dev) {
    const a = await registry.analyze(r.text, ['intent']);
    const top = a.intent!.alternatives[0];
    devScores.push({ confidence: top?.confidence ?? 0, correct: top?.name === r.label });
  }
  const gib: number[] = [];
  for (const t of gibberish(opts.gibberish ?? 300, opts.seed ?? 42)) {
    const a = await registry.analyze(t, ['intent']);
    gib.push(a.intent!.alternatives[0]?.confidence ?? 0);
  }
  return thresholds.map((threshold) => {
    const accepted = devScores.filter((s) => s.confidence >= threshold);
    const rejected = devScores.filter((s) => s.confidence < threshold);
    return {
      threshold,
      devRejected: rejected.length / Math.max(1, devScores.length),
      devAcceptedAccuracy: accepted.filter((s) => s.correct).length / Math.max(1, accepted.length),
      devRejectedWrong: rejected.filter((s) => !s.correct).length / Math.max(1, rejected.length),
      gibberishRejected: gib.filter((c) => c < threshold).length / Math.max(1, gib.length),
    };
  });
}

export function formatThresholdCurve(points: readonly ThresholdPoint[], devName: string): string {
  const p = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const lines = [
    `| threshold | ${devName} rejected | of those, wrong anyway | accuracy on accepted | random gibberish rejected |`,
    '|---|---|---|---|---|',
  ];
  for (const x of points) lines.push(`| ${x.threshold} | ${p(x.devRejected)} | ${p(x.devRejectedWrong)} | ${p(x.devAcceptedAccuracy)} | ${p(x.gibberishRejected)} |`);
  return lines.join('\n');
}
