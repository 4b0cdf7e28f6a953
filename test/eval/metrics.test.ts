import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationMetrics, countSlots, expectedCalibrationError, negativeLogLikelihood, percentile, reliabilityBins, slotF1 } from '../../src/eval/metrics.js';

const close = (a: number, b: number, msg?: string): void => assert.ok(Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} vs ${b}`);

test('accuracy, per-label P/R/F1, macro-F1 and macro-recall on a hand-computed case', () => {
  //        gold: a a a b b c
  //   predicted: a a b b c x      (x: a label only predicted; c never predicted right)
  const m = classificationMetrics(['a', 'a', 'a', 'b', 'b', 'c'], ['a', 'a', 'b', 'b', 'c', 'x']);
  close(m.accuracy, 3 / 6);
  const by = Object.fromEntries(m.perLabel.map((s) => [s.label, s]));
  close(by.a.precision, 1); close(by.a.recall, 2 / 3); close(by.a.f1, 0.8);
  close(by.b.precision, 1 / 2); close(by.b.recall, 1 / 2); close(by.b.f1, 1 / 2);
  close(by.c.precision, 0); close(by.c.recall, 0); close(by.c.f1, 0);
  close(by.x.f1, 0); assert.equal(by.x.support, 0);
  close(m.macroF1, (0.8 + 0.5 + 0 + 0) / 4, 'macro-F1 over gold ∪ predicted');
  close(m.macroRecall, (2 / 3 + 1 / 2 + 0) / 3, 'macro-recall over gold labels');
  assert.deepEqual(m.confused[0], { gold: 'a', predicted: 'b', count: 1 });
  assert.equal(m.confused.length, 3);
});

test('a gold label the model cannot produce counts as an error', () => {
  const m = classificationMetrics(['a', 'never'], ['a', 'a']);
  close(m.accuracy, 0.5);
  close(m.macroRecall, 0.5);
});

test('ECE on hand-computed bins', () => {
  // Two in bin (0.8, 0.867]: conf 0.85 both, 1 right → |0.5 - 0.85| · 2/4; two in the top bin: conf 1.0, both right → 0.
  close(expectedCalibrationError([0.85, 0.85, 1, 1], [true, false, true, true]), (2 / 4) * 0.35);
  close(expectedCalibrationError([0.5, 0.5], [true, false]), 0);
  close(expectedCalibrationError([], []), 0);
  close(negativeLogLikelihood([1, Math.exp(-2)]), 1);
});

test('reliability bins: the bins ECE sums over (confidence 0 in the first, 1 in the last)', () => {
  const conf = [0, 0.85, 0.85, 1, 1];
  const right = [false, true, false, true, true];
  const bins = reliabilityBins(conf, right);
  assert.equal(bins.length, 15);
  assert.equal(bins.reduce((a, b) => a + b.count, 0), 5);
  assert.deepEqual([bins[0].count, bins[12].count, bins[14].count], [1, 2, 2]);
  close(bins[12].lo, 12 / 15); close(bins[12].hi, 13 / 15);
  close(bins[12].confidence, 0.85); close(bins[12].accuracy, 0.5);
  close(bins[14].accuracy, 1);
  const weighted = bins.reduce((a, b) => a + (b.count / conf.length) * Math.abs(b.accuracy - b.confidence), 0);
  close(weighted, expectedCalibrationError(conf, right));
  assert.throws(() => reliabilityBins([0.5], []), RangeError);
});

test('nearest-rank percentiles', () => {
  const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(v, 50), 5);
  assert.equal(percentile(v, 99), 10);
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile([], 50), 0);
});

test('slot F1: multiset matching of type+value keys, micro over utterances', () => {
  let c = countSlots(['place:kitchen', 'time:7'], ['place:kitchen', 'time:8']);
  c = countSlots(['place:hall'], [], c);
  c = countSlots([], ['device:lamp'], c);
  c = countSlots(['x:1', 'x:1'], ['x:1'], c);
  assert.deepEqual(c, { tp: 2, gold: 5, predicted: 4 });
  const f = slotF1(c);
  close(f.precision, 2 / 4);
  close(f.recall, 2 / 5);
  close(f.f1, (2 * 0.5 * 0.4) / 0.9);
  assert.deepEqual(slotF1({ tp: 0, gold: 0, predicted: 0 }), { precision: 1, recall: 1, f1: 1 });
});
