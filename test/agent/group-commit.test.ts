/**
 * Group commit (issue 10): inputs added in one event-loop turn share one
 * commit; nobody hears "committed" before the commit; batches go one at a time
 * and in order; a failed commit fails every item of its batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../../src/agent/group-commit.js';
import { sleep } from '../helpers/net.js';

function recorder(opts = { maxBatch: 100, maxWaitMs: 0 }) {
  const batches: number[][] = [];
  let gate: Promise<void> = Promise.resolve();
  const gc = new GroupCommit<number, string>(async (items) => {
    batches.push([...items]);
    await gate;
    return items.map((i) => `ok${i}`);
  }, opts);
  return { gc, batches, hold: (p: Promise<void>) => (gate = p) };
}

test('items added in the same turn are committed together, and each gets its own outcome', async () => {
  const { gc, batches } = recorder();
  const outcomes = await Promise.all([1, 2, 3, 4, 5].map((i) => gc.add(i)));
  assert.deepEqual(batches, [[1, 2, 3, 4, 5]]);
  assert.deepEqual(outcomes, ['ok1', 'ok2', 'ok3', 'ok4', 'ok5']);
});

test('maxBatch bounds a batch; batches commit one at a time, in order, and none resolves before its commit', async () => {
  const { gc, batches, hold } = recorder({ maxBatch: 2, maxWaitMs: 0 });
  let release!: () => void;
  hold(new Promise<void>((r) => (release = r)));
  const resolved: number[] = [];
  const all = [1, 2, 3, 4, 5].map((i) => gc.add(i).then(() => resolved.push(i)));
  await sleep(20);
  assert.deepEqual(batches, [[1, 2]], 'the second batch waits for the first commit');
  assert.deepEqual(resolved, [], 'nothing resolves before its commit');
  assert.equal(gc.pending, 3);
  release();
  await Promise.all(all);
  assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
  assert.deepEqual(resolved, [1, 2, 3, 4, 5]);
});

test('maxWaitMs gathers items that arrive over several turns', async () => {
  const { gc, batches } = recorder({ maxBatch: 100, maxWaitMs: 30 });
  const a = gc.add(1);
  await sleep(5);
  const b = gc.add(2);
  await Promise.all([a, b]);
  assert.deepEqual(batches, [[1, 2]]);
});

test('a failed commit rejects every item of its batch; the next batch is tried on its own', async () => {
  let fail = true;
  const gc = new GroupCommit<number, number>(async (items) => {
    if (fail) {
      fail = false;
      throw new Error('disk I/O error');
    }
    return [...items];
  }, { maxBatch: 100, maxWaitMs: 0 });
  const first = await Promise.allSettled([gc.add(1), gc.add(2)]);
  assert.deepEqual(first.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(await gc.add(3), 3);
});

test('flush() commits what is waiting at once (stop, before the database closes)', async () => {
  const { gc, batches } = recorder({ maxBatch: 100, maxWaitMs: 10_000 });
  const p = gc.add(7);
  gc.flush();
  assert.deepEqual(batches, [[7]], 'committed synchronously, not after the wait');
  assert.equal(await p, 'ok7');
});

test('adds made by the continuations of one task (each after its own await) still share one commit', async () => {
  const { gc, batches } = recorder({ maxBatch: 100, maxWaitMs: 0 });
  // As intake does: each message awaits something (room in the worker's queue) before it adds itself.
  const submit = async (i: number) => {
    await Promise.resolve();
    return gc.add(i);
  };
  await Promise.all([1, 2, 3, 4].map((i) => submit(i)));
  assert.deepEqual(batches, [[1, 2, 3, 4]]);
});
