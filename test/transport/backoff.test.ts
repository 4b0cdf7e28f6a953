import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/transport/backoff.js';

test('backoff doubles from the base to the cap, never above it, and starts over on reset', () => {
  const top = new Backoff(1000, 60_000, () => 1);
  assert.deepEqual(Array.from({ length: 9 }, () => top.next()), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(top.attempts, 9);
  top.reset();
  assert.equal(top.attempts, 0);
  assert.equal(top.next(), 1000);
});

test('jitter keeps each delay within [0.75, 1] of its step', () => {
  const low = new Backoff(1000, 8000, () => 0);
  assert.deepEqual(Array.from({ length: 5 }, () => low.next()), [750, 1500, 3000, 6000, 6000]);
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const b = new Backoff(200, 5000, random);
  for (let i = 1; i <= 40; i++) {
    const step = Math.min(5000, 200 * 2 ** (i - 1));
    const d = b.next();
    assert.ok(d >= step * 0.75 && d <= step, `attempt ${i}: ${d} outside [${step * 0.75}, ${step}]`);
  }
});
