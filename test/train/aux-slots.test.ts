import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slotTypeTargets, trainClassifier } from '../../src/train/trainer.js';
import { tinyDataset, tinyRows } from './tiny-data.js';

test('slotTypeTargets: each row\'s slot types as sorted indices into the sorted types of all rows', () => {
  const rows = [
    { text: 'a', label: 'x', slots: [{ type: 'time', value: 'a', start: 0, end: 1 }, { type: 'date', value: 'a', start: 0, end: 1 }, { type: 'time', value: 'a', start: 0, end: 1 }], source: 's' },
    { text: 'b', label: 'x', slots: [], source: 's' },
    { text: 'c', label: 'y', slots: [{ type: 'person', value: 'c', start: 0, end: 1 }], source: 's' },
  ];
  const t = slotTypeTargets(rows);
  assert.deepEqual(t.types, ['date', 'person', 'time']);
  assert.deepEqual(t.targets.map((x) => [...x]), [[0, 2], [], [1]]);
});

test('trainer option auxSlots: off (absent, null or weight 0) trains bit for bit as before; on, the rows learn from the slot types', () => {
  const base = { task: 'intent' as const, train: [tinyDataset()], fasttext: { dim: 6, epochs: 3, seed: 3 } };
  const plain = trainClassifier(base);
  for (const auxSlots of [null, { weight: 0 }]) {
    const t = trainClassifier({ ...base, auxSlots });
    assert.deepEqual(t.weights.emb, plain.weights.emb);
    assert.deepEqual(t.weights.w2, plain.weights.w2);
    assert.deepEqual(t.weights.b2, plain.weights.b2);
  }
  const joint = trainClassifier({ ...base, auxSlots: { weight: 1 } });
  // The same shapes (the auxiliary head is dropped), different rows: the slot-type loss reached them.
  assert.equal(joint.weights.dim, plain.weights.dim);
  assert.equal(joint.remap.size, plain.remap.size);
  assert.notDeepEqual(joint.weights.emb, plain.weights.emb);
  // The tiny set's rooms are house_place slots: the head has one label to learn, and training still fits every training row's intent.
  assert.deepEqual(slotTypeTargets(tinyRows()).types, ['house_place']);
  const fit = trainClassifier({ ...base, fasttext: { ...base.fasttext, epochs: 20 }, dev: [{ file: 'tiny-train.jsonl', rows: tinyRows() }], auxSlots: { weight: 1 } });
  assert.equal(fit.stats.devAccuracy['tiny-train.jsonl'].unpruned, 1);
  assert.throws(() => trainClassifier({ ...base, fasttext: { dim: 6, hidden: 4, epochs: 1, seed: 3 }, auxSlots: { weight: 1 } }), /linear/);
});
