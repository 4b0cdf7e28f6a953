import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ModelStore, ModelStoreError, POINTER_FILE, POINTER_LOCK, PointerMovedError, SHIPPED, STALE_STAGING_MS } from '../../src/learn/model-store.js';

const info = (parent: string) => ({
  parent,
  data: { sources: { log: 12, 'public:hwu64.train.jsonl': 9682 }, householdLabels: { iot_garage_open: 12 }, heldOutRows: 6 },
  metrics: { heldOut: { n: 6, base: 0, candidate: 1, p: 0.03, significant: true } },
  checks: { passed: true, reasons: [] },
  trainingSeconds: 42,
});

function fakeModel(store: ModelStore): string {
  const dir = store.stage('intent');
  writeFileSync(join(dir, 'manifest.json'), '{}');
  return dir;
}

test('versions are numbered, listed with their info, and the staging directory is gone', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  assert.deepEqual(store.list('intent'), []);
  assert.equal(store.currentDir('intent'), null, 'the shipped model is live in an empty store');
  const a = store.add('intent', fakeModel(store), info(SHIPPED));
  const b = store.add('intent', fakeModel(store), info('v0001'));
  assert.equal(a.version, 'v0001');
  assert.equal(b.version, 'v0002');
  const list = store.list('intent');
  assert.deepEqual(list.map((v) => [v.version, v.parent, v.current]), [['v0001', SHIPPED, false], ['v0002', 'v0001', false]]);
  assert.equal(list[0].data.householdLabels.iot_garage_open, 12);
  assert.ok(!Number.isNaN(Date.parse(list[0].createdAt)));
  assert.deepEqual(readdirSync(store.taskDir('intent')).sort(), ['v0001', 'v0002'], 'no staging directory left behind');
});

test('promote moves the pointer, rollback walks the history back to the shipped model', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  store.add('intent', fakeModel(store), info(SHIPPED));
  store.add('intent', fakeModel(store), info('v0001'));
  assert.throws(() => store.rollback('intent'), /nothing to roll back/);
  store.promote('intent', 'v0001');
  assert.equal(store.currentDir('intent'), join(store.taskDir('intent'), 'v0001'));
  const p = store.promote('intent', 'v0002');
  assert.deepEqual(p.history, [SHIPPED, 'v0001']);
  assert.deepEqual(store.list('intent').map((v) => v.current), [false, true]);
  assert.equal(store.rollback('intent').version, 'v0001');
  assert.equal(store.rollback('intent').version, SHIPPED);
  assert.equal(store.currentDir('intent'), null);
  assert.throws(() => store.rollback('intent'), /nothing to roll back/);
  // The pointer is whole JSON after every write (written to a temporary file and renamed).
  assert.equal(JSON.parse(readFileSync(join(store.taskDir('intent'), POINTER_FILE), 'utf8')).version, SHIPPED);
  assert.deepEqual(readdirSync(store.taskDir('intent')).filter((n) => n.includes('.tmp')), []);
});

test('unknown versions, half-written directories and a damaged pointer are clear errors', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  assert.throws(() => store.promote('intent', 'v0009'), (e: Error) => e instanceof ModelStoreError && /no intent model version v0009/.test(e.message) && /models list/.test(e.message));
  const empty = store.stage('intent');
  assert.throws(() => store.add('intent', empty, info(SHIPPED)), /no manifest.json/);
  // A directory without version.json (an interrupted copy) is not a version.
  mkdirSync(join(store.taskDir('intent'), 'v0003'));
  assert.deepEqual(store.list('intent'), []);
  writeFileSync(join(store.taskDir('intent'), POINTER_FILE), '{"version": "v0');
  assert.throws(() => store.currentDir('intent'), /current.json: not valid JSON.*models promote/);
  writeFileSync(join(store.taskDir('intent'), POINTER_FILE), JSON.stringify({ version: 'v0007', promotedAt: '', history: [] }));
  assert.throws(() => store.currentDir('intent'), /names v0007, which is not in/);
  assert.ok(existsSync(store.taskDir('intent')));
});

test('staging directories left by a run that died are removed when the next run stages, not those of a run under way', () => {
  const root = mkdtempSync(join(tmpdir(), 'hubnlu-store-'));
  const store = new ModelStore(root);
  const dead = fakeModel(store); // a killed retrain's model files, never stored nor discarded
  const running = fakeModel(store); // another run, staged a minute ago
  const old = (Date.now() - STALE_STAGING_MS - 60_000) / 1000;
  utimesSync(dead, old, old);
  const next = store.stage('intent');
  const left = readdirSync(join(root, 'intent')).filter((n) => n.startsWith('.staging-')).map((n) => join(root, 'intent', n)).sort();
  assert.deepEqual(left, [running, next].sort(), 'the dead run\'s directory is gone, the others stay');
  assert.equal(existsSync(dead), false);
  // So is the version number a dead run claimed (an empty directory), not one claimed by a run under way.
  const deadClaim = store.claim('intent');
  const liveClaim = store.claim('intent');
  utimesSync(join(root, 'intent', deadClaim), old, old);
  store.stage('intent');
  assert.equal(existsSync(join(root, 'intent', deadClaim)), false);
  assert.equal(existsSync(join(root, 'intent', liveClaim)), true);
});

test('a store root that is a file (or under one) is a ModelStoreError naming learning.modelsDir, not a raw ENOTDIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-store-'));
  const file = join(dir, 'models');
  writeFileSync(file, 'not a directory');
  for (const root of [file, join(file, 'deeper')]) {
    const store = new ModelStore(root);
    // Reading a store that holds nothing still works: the shipped model is live.
    assert.equal(store.currentDir('intent'), null);
    const named = (e: Error) => e instanceof ModelStoreError && e.message.includes(`${file}: a file, not a directory`) && /learning\.modelsDir/.test(e.message);
    assert.throws(() => store.stage('intent'), named);
  }
  assert.equal(readFileSync(file, 'utf8'), 'not a directory', 'the file is left as it was');
});

/** Three processes storing `count` versions each at the same moment (test/helpers/store-writer.ts); their output lines. */
async function concurrentWriters(root: string, count: number, promote = false): Promise<{ version?: string; error?: string; pid: number }[]> {
  const go = join(root, 'go');
  const writer = fileURLToPath(new URL('../helpers/store-writer.js', import.meta.url));
  const writers = [0, 1, 2].map(() => {
    const child = spawn(process.execPath, [writer, root, String(count), go, ...(promote ? ['promote'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    return new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
  });
  await new Promise((r) => setTimeout(r, 300)); // all three started and waiting
  writeFileSync(go, '');
  return (await Promise.all(writers)).join('').trim().split('\n').map((l) => JSON.parse(l) as { version?: string; error?: string; pid: number });
}

test('retrains storing at the same time (separate processes) each get their own version number, and the model in it says that number', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hubnlu-store-'));
  const lines = await concurrentWriters(root, 15);
  assert.deepEqual(lines.filter((l) => l.error), [], 'no run failed');
  assert.equal(lines.length, 45);
  const store = new ModelStore(root);
  const versions = store.versions('intent');
  assert.equal(versions.length, 45, 'no run overwrote or lost another one\'s version');
  assert.equal(new Set(lines.map((l) => l.version)).size, 45, 'every run got its own number');
  for (const v of versions) {
    const manifest = JSON.parse(readFileSync(join(root, 'intent', v, 'manifest.json'), 'utf8')) as { version: string };
    assert.equal(manifest.version, v, `${v}/manifest.json names the version it is stored as`);
  }
  assert.deepEqual(readdirSync(join(root, 'intent')).filter((n) => n.startsWith('.')), [], 'no staging or claim left behind');
});

test('promotions at the same time (separate processes) lose none of each other\'s history', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hubnlu-store-'));
  const lines = await concurrentWriters(root, 10, true);
  assert.deepEqual(lines.filter((l) => l.error), [], 'no run failed');
  const p = new ModelStore(root).pointer('intent');
  // Every version was live once: it is the live one or on the history, exactly once, after shipped.
  assert.equal(p.history[0], SHIPPED);
  assert.deepEqual([...p.history.slice(1), p.version].sort(), lines.map((l) => l.version).sort());
  assert.deepEqual(readdirSync(join(root, 'intent')).filter((n) => n.includes('lock') || n.includes('.tmp')), [], 'no lock or temporary file left behind');
});

test('a retrain promotes only over the version it was compared with; two runs that both beat shipped: the later one is stored, not promoted', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  // Both runs start while shipped is live and claim their numbers.
  const stagedA = fakeModel(store);
  const a = store.claim('intent');
  const stagedB = fakeModel(store);
  const b = store.claim('intent');
  assert.deepEqual([a, b], ['v0001', 'v0002']);
  assert.deepEqual(store.versions('intent'), [], 'a claimed number is no version yet');
  // B finishes first.
  assert.equal(store.add('intent', stagedB, info(SHIPPED), b).version, 'v0002');
  store.promote('intent', b, { ifLive: SHIPPED });
  assert.equal(store.add('intent', stagedA, info(SHIPPED), a).version, 'v0001');
  assert.throws(
    () => store.promote('intent', a, { ifLive: SHIPPED }),
    (e: Error) => e instanceof PointerMovedError && /v0001 was compared with shipped, but v0002 became live meanwhile/.test(e.message) && /hubnlu models promote v0001/.test(e.message),
  );
  assert.equal(store.pointer('intent').version, 'v0002', 'the live version is the one promoted first');
  assert.deepEqual(store.pointer('intent').history, [SHIPPED]);
  // A run that fails gives its number back; the next run takes the next free one.
  const stagedC = fakeModel(store);
  const c = store.claim('intent');
  store.discard(stagedC, { task: 'intent', version: c });
  assert.equal(existsSync(join(store.taskDir('intent'), c)), false);
  assert.equal(store.claim('intent'), c);
});

test('a pointer lock left by a process that died is taken over; one held by a live process is waited for, then named', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  store.add('intent', fakeModel(store), info(SHIPPED));
  const lock = join(store.taskDir('intent'), POINTER_LOCK);
  writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, since: '2026-01-01T00:00:00Z' })); // no such process
  assert.equal(store.promote('intent', 'v0001').version, 'v0001');
  assert.equal(existsSync(lock), false);
  const holder = spawn('sleep', ['30']);
  try {
    writeFileSync(lock, JSON.stringify({ pid: holder.pid, since: '2026-12-02T05:00:00Z' }));
    const waiting = new ModelStore(store.root, { lockWaitMs: 200 });
    assert.throws(() => waiting.rollback('intent'), (e: Error) => e instanceof ModelStoreError && e.message.includes(`${lock}: held by process ${holder.pid} since 2026-12-02T05:00:00Z`) && /remove the file if no hubnlu process is running/.test(e.message));
    assert.equal(store.pointer('intent').version, 'v0001', 'the live version is unchanged');
  } finally {
    holder.kill();
  }
});

test('promoteAsync (the nightly retrain\'s promotion, in the agent) waits for a live holder with timers: the event loop keeps turning, then it promotes', async () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')), { lockWaitMs: 5_000 });
  store.add('intent', fakeModel(store), info(SHIPPED));
  const lock = join(store.taskDir('intent'), POINTER_LOCK);
  const holder = spawn('sleep', ['30']);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    writeFileSync(lock, JSON.stringify({ pid: holder.pid, since: '2026-12-02T05:00:00Z' }));
    const promoted = store.promoteAsync('intent', 'v0001', { ifLive: SHIPPED });
    let settled = false;
    promoted.then(() => (settled = true), () => (settled = true));
    // A blocking wait would hold this process for lockWaitMs (5 s) inside the call, and give up: settled before any timer fired.
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(ticks);
    }
    assert.ok(seen.at(-1)! > 0, 'no timer fired while the promotion waited for the lock');
    assert.equal(settled, false, 'the promotion gave up (or went ahead) while another process held the lock');
    assert.equal(store.pointer('intent').version, SHIPPED, 'promoted while another process held the lock');
    unlinkSync(lock); // the other writer is done
    assert.equal((await promoted).version, 'v0001');
    assert.deepEqual(store.pointer('intent').history, [SHIPPED]);
    assert.equal(existsSync(lock), false);
  } finally {
    clearInterval(timer);
    holder.kill();
  }
});
