/**
 * ModelSlot: atomic swap. A narrow unit test with stand-in models whose
 * analyses finish when the test says so, so "in flight during the swap" is exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelSlot, type SlotModels } from '../../src/model/model-slot.js';
import type { Analysis, ModelRef, TaskName } from '../../src/model/types.js';

class GatedModels implements SlotModels {
  closed = false;
  readonly pending: Array<() => void> = [];
  constructor(readonly version: string, readonly unknownThreshold: number) {}
  loadedModels(): readonly ModelRef[] {
    return [{ task: 'intent', name: 'm', version: this.version }];
  }
  labels(task: TaskName): readonly string[] {
    return task === 'intent' ? [`label-${this.version}`] : [];
  }
  analyze(): Promise<Analysis> {
    if (this.closed) return Promise.reject(new Error(`models ${this.version} used after close`));
    return new Promise((resolve) => this.pending.push(() => resolve({ models: this.loadedModels() })));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

test('swap: in-flight work finishes on the old models, later work uses the new, the old close after their last lease', async () => {
  const v1 = new GatedModels('1', 0.4);
  const v2 = new GatedModels('2', 0.6);
  const slot = new ModelSlot(v1);
  const early = slot.analyze('a', ['intent']);
  const lease = slot.acquire();
  assert.equal(lease.unknownThreshold, 0.4);

  const retired = slot.swap(v2);
  let retiredDone = false;
  void retired.then(() => (retiredDone = true));
  const late = slot.analyze('b', ['intent']);
  assert.equal(slot.unknownThreshold, 0.6, 'the threshold travels with the models');
  assert.deepEqual(slot.labels('intent'), ['label-2']);
  assert.equal(slot.generation, 2);
  assert.equal(v1.closed, false, 'old models stay open while work holds them');

  v1.pending.shift()!();
  assert.equal((await early).models[0].version, '1');
  await new Promise((r) => setImmediate(r));
  assert.equal(v1.closed, false, 'one lease is still out');
  lease.release();
  lease.release(); // idempotent
  await retired;
  assert.ok(retiredDone && v1.closed);

  v2.pending.shift()!();
  assert.equal((await late).models[0].version, '2');
  assert.equal(v2.closed, false);
  await slot.close();
  assert.equal(v2.closed, true);
});

test('swap with nothing in flight closes the old models at once; a threshold-less model gets the fallback', async () => {
  const v1 = new GatedModels('1', 0.4);
  const slot = new ModelSlot(v1, 0.33);
  const noThreshold: SlotModels = { analyze: async () => ({ models: [] }), loadedModels: () => [], labels: () => [], close: async () => undefined };
  await slot.swap(noThreshold);
  assert.equal(v1.closed, true);
  assert.equal(slot.unknownThreshold, 0.33);
  assert.deepEqual(slot.labels('intent'), []);
});
