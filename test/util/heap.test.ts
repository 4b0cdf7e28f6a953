/**
 * src/util/heap.ts: the agent's one full collection after start-up, and packages required for one use and dropped
 * (issue 10, idle RSS). Checked on V8 itself: what is dropped is really collected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics } from 'node:v8';
import { collectGarbage, requireForOnce, shrinkHeap } from '../../src/util/heap.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const require = createRequire(import.meta.url);

test('collectGarbage runs a full collection without putting gc on the global object', async () => {
  let garbage: object | undefined = { big: new Array(1000).fill('x') };
  const ref = new WeakRef(garbage);
  garbage = undefined;
  await tick(); // a WeakRef's target is kept until the end of the job that created it
  assert.equal(collectGarbage(), true);
  assert.equal(ref.deref(), undefined, 'an unreachable object survived the collection');
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  assert.equal(collectGarbage(), true, 'works more than once');
});

test('collectGarbage compacts the old generation: pages left three-quarters full are emptied', () => {
  const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
  let objects: Array<{ i: number; s: string } | null> = [];
  for (let i = 0; i < 400_000; i++) objects.push({ i, s: `x${i}` });
  collectGarbage();
  collectGarbage(); // now in the old generation
  for (let i = 0; i < objects.length; i += 4) objects[i] = null; // a quarter of every page freed
  const kept = objects.filter((o) => o !== null);
  objects = [];
  collectGarbage();
  const { space_size: size, space_used_size: used } = oldSpace();
  // Without compaction V8 keeps pages this full as they are: about 6 MB of the freed quarter stays committed.
  assert.ok(size - used < 3 * 1048576, `old space ${(size / 1048576).toFixed(1)} MB for ${(used / 1048576).toFixed(1)} MB used`);
  assert.equal(kept.length, 300_000);
});

test('requireForOnce: the package works inside, is out of the require cache after, and is collected', async () => {
  const id = require.resolve('yaml');
  assert.equal(require.cache[id], undefined, 'yaml is not loaded by this test file before');
  let ref: WeakRef<object> | undefined;
  const parsed = requireForOnce(import.meta.url, (r) => {
    const yaml = r('yaml') as typeof import('yaml');
    ref = new WeakRef(yaml);
    return yaml.parse('a: 1\nb: [x, y]\n') as unknown;
  });
  assert.deepEqual(parsed, { a: 1, b: ['x', 'y'] });
  assert.equal(require.cache[id], undefined, 'yaml left in the require cache');
  assert.deepEqual(Object.keys(require.cache).filter((k) => k.includes('/node_modules/yaml/')), []);
  await tick();
  collectGarbage();
  assert.equal(ref!.deref(), undefined, 'the dropped package is still reachable from somewhere');
});

test('requireForOnce leaves a module that was loaded before', () => {
  const id = require.resolve('ms');
  require('ms');
  requireForOnce(import.meta.url, (r) => r('ms'));
  assert.ok(require.cache[id], 'a module loaded before was dropped');
});

test('shrinkHeap collects garbage and gives the grown young generation back (what collectGarbage does not)', async () => {
  const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
  const grow = () => {
    // Young objects that survive scavenges make V8 grow the young generation towards its maximum.
    const keep: Array<{ i: number }> = [];
    for (let i = 0; i < 600_000; i++) keep.push({ i });
    return keep.length;
  };
  assert.equal(grow(), 600_000);
  const grown = newSpace();
  collectGarbage();
  assert.ok(newSpace() >= grown, 'a plain full collection already shrinks the young generation: shrinkHeap is not needed');
  let garbage: object | undefined = { big: new Array(1000).fill('x') };
  const ref = new WeakRef(garbage);
  garbage = undefined;
  await tick();
  assert.equal(await shrinkHeap(), true);
  assert.equal(ref.deref(), undefined, 'an unreachable object survived the collection');
  assert.ok(newSpace() < grown, `young generation ${(grown / 1048576).toFixed(1)} MB before, ${(newSpace() / 1048576).toFixed(1)} MB after`);
  assert.equal(await shrinkHeap(), true, 'works more than once (the inspector session is closed each time)');
});
