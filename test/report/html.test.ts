/** The report page as a string: escaping, the embedded data, the confusion matrix and the log figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReportHtml, jsonForScript } from '../../src/report/html.js';
import { buildReportData, confusionMatrix } from '../../src/report/report-data.js';
import type { EvalPrediction, EvalReport } from '../../src/eval/evaluate.js';
import { classificationMetrics } from '../../src/eval/metrics.js';
import { histogram, volumeBucket } from '../../src/store/report-queries.js';

const EVIL = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';

function fakeReport(predictions: EvalPrediction[]): EvalReport {
  const m = classificationMetrics(predictions.map((p) => p.gold), predictions.map((p) => p.predicted));
  return {
    task: 'intent',
    model: { name: 'm', version: '1' },
    n: m.n,
    accuracy: m.accuracy,
    macro_f1: m.macroF1,
    macro_recall: m.macroRecall,
    ece: 0.1,
    latency_ms: { p50: 1, p99: 2, mean: 1.5 },
    unproducible_labels: [],
    unproducible_rows: 0,
    per_label: m.perLabel,
    confused: m.confused,
    predictions,
  };
}

const p = (text: string, gold: string, predicted: string, confidence: number): EvalPrediction => ({
  text,
  gold,
  predicted,
  reported: predicted,
  confidence,
  correct: gold === predicted,
  latency_ms: 1,
});

test('confusion matrix: gold rows × predicted columns over every label seen', () => {
  const c = confusionMatrix([p('a', 'x', 'x', 0.9), p('b', 'x', 'y', 0.8), p('c', 'y', 'y', 0.7), p('d', 'z', 'x', 0.6)]);
  assert.deepEqual(c.labels, ['x', 'y', 'z']);
  assert.deepEqual(c.counts, [
    [1, 1, 0],
    [0, 1, 0],
    [1, 0, 0],
  ]);
});

test('utterances and labels with markup stay text; the data block cannot be closed early', () => {
  const preds = [p(EVIL, 'a<b', 'c"d', 0.9), p('fine', 'a<b', 'a<b', 0.8), p('ok', 'c"d', 'c"d', 0.7)];
  const data = buildReportData({ source: { kind: 'file', file: 'x.jsonl' }, report: fakeReport(preds) });
  const html = renderReportHtml(data);
  assert.equal(html.match(/<script/g)?.length, 1, 'only the JSON data block');
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;\/script&gt;&lt;script&gt;alert\(1\)/);
  assert.match(html, /data-gold="a&lt;b" data-predicted="c&quot;d">1</);
  const block = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1];
  const parsed = JSON.parse(block);
  assert.equal(parsed.topConfusions[0].examples[0].text, EVIL);
  assert.equal(parsed.eval.predictions, undefined, 'per-row predictions are not embedded wholesale');
  assert.equal(jsonForScript('</script>'), '"\\u003c/script>"');
});

test('latency histogram buckets and the volume bucket size', () => {
  const h = histogram([0.1, 0.25, 0.3, 7, 5000], [0.25, 1, 10]);
  assert.deepEqual(h.counts, [2, 1, 1, 1]);
  assert.equal(h.n, 5);
  assert.equal(volumeBucket(2 * 3_600_000).name, 'hour');
  assert.equal(volumeBucket(10 * 86_400_000).name, 'day');
  assert.equal(volumeBucket(500 * 86_400_000).name, 'week');
});

test('a report without per-row predictions is refused', () => {
  const r = fakeReport([p('a', 'x', 'x', 0.9)]);
  const { predictions: _, ...without } = r;
  assert.throws(() => buildReportData({ source: { kind: 'file', file: 'f' }, report: without }), /keepPredictions/);
});
