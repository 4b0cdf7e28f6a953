import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, shuffleInPlace, stratifiedSplit } from '../../src/data/random.js';

test('the PRNG is seeded: same seed, same sequence; other seed, other sequence', () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const c = mulberry32(8);
  const xs = Array.from({ length: 5 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c()));
  for (const x of xs) assert.ok(x >= 0 && x < 1);
  assert.deepEqual(shuffleInPlace([1, 2, 3, 4, 5, 6], mulberry32(1)).sort(), [1, 2, 3, 4, 5, 6]);
});

test('stratifiedSplit holds out a share of each label, at least one of a label with two rows', () => {
  const rows = [
    ...Array.from({ length: 10 }, (_, i) => ({ label: 'a', i })),
    ...Array.from({ length: 2 }, (_, i) => ({ label: 'b', i })),
    { label: 'c', i: 0 },
  ];
  const [train, held] = stratifiedSplit(rows, 0.2, 3);
  assert.equal(held.filter((r) => r.label === 'a').length, 2);
  assert.equal(held.filter((r) => r.label === 'b').length, 1);
  assert.equal(held.filter((r) => r.label === 'c').length, 0);
  assert.equal(train.length + held.length, rows.length);
  assert.deepEqual(stratifiedSplit(rows, 0.2, 3), [train, held]);
});
