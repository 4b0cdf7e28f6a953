import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/database.js';
import { LogStore, type NewEntry } from '../../src/store/log-store.js';
import { WalCheckpointer } from '../../src/store/checkpointer.js';
import { createLogger } from '../../src/util/logger.js';

const log = createLogger({ level: 'silent' });

function fresh(): { db: Db; path: string; store: LogStore } {
  const path = join(mkdtempSync(join(tmpdir(), 'hubnlu-ckpt-')), 'h.db');
  const db = openDatabase(path, { synchronous: 'normal' });
  return { db, path, store: new LogStore(db) };
}

function entries(batch: number, n: number): NewEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    input: { id: `b${batch}-${i}`, idSource: 'payload' as const, deliveryKey: `k${batch}-${i}`, receivedAt: Date.now(), topic: 'hubnlu/k/utterance', siteId: 'k', text: `turn on light ${i}`, tasks: ['intent'], resultTopic: 'hubnlu/k/result' },
    redelivered: false,
  }));
}

/** What the agent does per batch: store inputs, their results and messages, mark the messages published. */
function cycle(store: LogStore, batch: number): void {
  const outcomes = store.recordMany(entries(batch, 5));
  store.completeMany(outcomes.map((o) => ({ seq: o.seq, status: 'done' as const, completedAt: Date.now(), intent: 'x', latencyMs: 1, messages: [{ topic: 'hubnlu/k/result', payload: '{"intent":"x"}' }] })));
  store.markPublished(store.unpublished(0, 1000).map((r) => r.seq), Date.now());
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms).unref())]);

test('with the checkpoint thread the connection checkpoints only as a backstop (4,096 pages), and the WAL still reaches the database file', async () => {
  const { db, path, store } = fresh();
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, "SQLite's default before");
  const checkpointer = new WalCheckpointer(db, path, log, { minIntervalMs: 10 });
  await checkpointer.start();
  try {
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 4096);
    const fileBefore = statSync(path).size;
    const checkpointed = checkpointer.nextCheckpoint();
    for (let b = 0; b < 50; b++) cycle(store, b);
    await within(checkpointed, 10_000, 'checkpoint');
    // Writes have stopped: the next look copies whatever is left.
    await within(checkpointer.nextCheckpoint(), 10_000, 'second checkpoint');
    assert.ok(checkpointer.stats.lastCheckpointed > 0, 'frames were copied back');
    assert.equal(checkpointer.stats.lastCheckpointed, checkpointer.stats.lastLog, 'the whole WAL is in the database file');
    assert.ok(statSync(path).size > fileBefore, 'the rows reached the main file');
    assert.equal(checkpointer.stats.errors, 0);
  } finally {
    await checkpointer.stop();
  }
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'stop gives the connection its automatic checkpoint back');
  db.close();
});

test('another writer (a CLI process, a thread) between the agent\'s read and its write is waited for, not an instant SQLITE_BUSY', async () => {
  const { db, path, store } = fresh();
  db.exec('CREATE TABLE other_writer (n INTEGER)');
  // A second connection committing small transactions as fast as it can, for a while.
  const writer = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const Database = require(workerData.module);
     const db = new Database(workerData.path, { timeout: 5000 });
     const insert = db.prepare('INSERT INTO other_writer VALUES (?)');
     const until = Date.now() + workerData.ms;
     parentPort.postMessage('started');
     for (let i = 0; Date.now() < until; i++) insert.run(i);
     db.close();`,
    { eval: true, workerData: { path, ms: 1500, module: createRequire(import.meta.url).resolve('better-sqlite3') } },
  );
  await new Promise((resolve) => writer.once('message', resolve));
  let writing = true;
  const exited = new Promise((resolve) => writer.once('exit', resolve)).then(() => (writing = false));
  let cycles = 0;
  try {
    // A deferred transaction reads (the duplicate check) and then writes; if the other connection committed in
    // between, SQLite refuses the write at once (SQLITE_BUSY, no busy wait). BEGIN IMMEDIATE takes the lock first.
    while (writing) {
      cycle(store, cycles++);
      await tick();
    }
  } finally {
    await exited;
    db.close();
  }
  assert.ok(cycles > 10, `${cycles} cycles ran beside the other writer`);
});

test('writes interleaved with the thread\'s checkpoints never fail with SQLITE_BUSY, and the WAL stays bounded', async () => {
  const { db, path, store } = fresh();
  const checkpointer = new WalCheckpointer(db, path, log, { minIntervalMs: 1, backstopFrames: 100 });
  await checkpointer.start();
  try {
    for (let b = 0; b < 600; b++) {
      cycle(store, b);
      if (b % 3 === 0) await tick();
    }
    await within(checkpointer.nextCheckpoint(), 10_000, 'checkpoint');
    assert.ok(checkpointer.stats.checkpoints > 1);
    // These 3,000 inputs leave a 43 MB WAL when nothing checkpoints; here it starts over again and again (1-6 MB measured).
    assert.ok(statSync(`${path}-wal`).size < 16 * 1024 * 1024, `WAL ${statSync(`${path}-wal`).size} bytes`);
    assert.equal((db.prepare('SELECT count(*) AS n FROM inputs WHERE status = ?').get('done') as { n: number }).n, 3000);
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test('near the backstop the thread chases the WAL\'s tail: it looks every chaseIntervalMs, not every minIntervalMs', async () => {
  const { db, path, store } = fresh();
  // Looks once a second until the WAL holds 50 frames, then every 5 ms.
  const checkpointer = new WalCheckpointer(db, path, log, { minIntervalMs: 1000, maxIntervalMs: 1000, backstopFrames: 100_000, chaseFrames: 50, chaseIntervalMs: 5 });
  await checkpointer.start();
  cycle(store, 0);
  // A reader (`hubnlu logs`, say) in the middle of a read: the WAL cannot start over while it reads, so it stays long.
  const reader = openDatabase(path, { readonly: true });
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM inputs').get();
  try {
    const until = Date.now() + 2500;
    for (let b = 1; Date.now() < until; b++) {
      cycle(store, b);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.ok(checkpointer.stats.lastLog >= 50, `WAL ${checkpointer.stats.lastLog} frames at the last look`);
    // At one look a second there would be 2 in 2.5 s; chasing, there are dozens (a loaded machine slows the thread, not to 2).
    assert.ok(checkpointer.stats.checkpoints >= 6, `${checkpointer.stats.checkpoints} checkpoints in 2.5 s`);
    assert.equal(checkpointer.stats.errors, 0);
  } finally {
    reader.exec('COMMIT');
    reader.close();
    await checkpointer.stop();
    db.close();
  }
});

test('from restartFrames on, commits pause while the thread copies the whole WAL, and the WAL starts over without the connection ever checkpointing', async () => {
  const { db, path, store } = fresh();
  // The connection's own checkpoint (the backstop) never comes here: only the pauses can start the WAL over.
  const ended: Array<[number, number | undefined]> = [];
  const checkpointer = new WalCheckpointer(db, path, log, { minIntervalMs: 2, chaseIntervalMs: 2, backstopFrames: 1_000_000, restartFrames: 200, onPauseEnd: (since, ms) => ended.push([since, ms]) });
  await checkpointer.start();
  let waited = 0;
  let cycles = 0;
  try {
    // The agent under a flood: commit after commit, each after asking beforeCommit(). Without the pauses the thread
    // never finds the WAL all copied at a commit (measured: the WAL holds every frame written, tens of MB).
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const pause = checkpointer.beforeCommit();
      if (pause) {
        waited++;
        await within(pause, 5000, 'end of the pause');
      }
      cycle(store, cycles++);
      await tick();
    }
    assert.ok(checkpointer.stats.pauses >= 1 && waited >= 1, `${checkpointer.stats.pauses} pauses, ${waited} commits waited`);
    assert.ok(checkpointer.stats.caughtUp >= 1, `the thread copied the whole WAL in ${checkpointer.stats.caughtUp} of ${checkpointer.stats.pauses} pauses`);
    // Each pause is told when it ends (the last one may still be under way): when it began, and the thread's
    // checkpoint time when the thread's answer ended it.
    await within(checkpointer.beforeCommit() ?? Promise.resolve(), 5000, 'end of the last pause');
    assert.equal(ended.length, checkpointer.stats.pauses);
    assert.ok(ended.every(([since, ms]) => since > 0 && since <= performance.now() && (ms === undefined || ms >= 0)), JSON.stringify(ended));
    // Without a checkpoint time only those that ran to maxPauseMs (a loaded machine): the thread's answer ended the rest.
    assert.equal(ended.filter(([, ms]) => ms === undefined).length, checkpointer.stats.pauseTimeouts, JSON.stringify(ended));
    assert.ok(ended.some(([, ms]) => ms !== undefined), JSON.stringify(ended));
    // ~15 frames a cycle: without a restart the WAL would hold every frame written since the start.
    const walFrames = statSync(`${path}-wal`).size / 4120;
    assert.ok(walFrames < cycles * 5, `WAL ${walFrames.toFixed(0)} frames after ${cycles} cycles: it started over`);
    assert.equal(checkpointer.stats.errors, 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM inputs').get() as { n: number }).n, cycles * 5, 'every write committed');
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test('a pause ends when the thread does not answer within maxPauseMs (then none is granted for a while), when the thread exits, and when stopping', async () => {
  const { db, path } = fresh();
  const ended: Array<number | undefined> = [];
  const checkpointer = new WalCheckpointer(db, path, log, { maxPauseMs: 30, restartFrames: 0, onPauseEnd: (_since, ms) => ended.push(ms) });
  await checkpointer.start();
  const internals = checkpointer as unknown as { worker: Worker; onMessage(m: unknown): void };
  const thread = internals.worker;
  try {
    assert.equal(checkpointer.beforeCommit(), undefined, 'no pause: commits go at once');
    // A thread that asks for a pause and then never answers (a stand-in that drops the agent's `go`).
    internals.worker = { postMessage: () => undefined } as unknown as Worker;
    internals.onMessage({ type: 'wal-long', log: 5000 });
    const pause = checkpointer.beforeCommit();
    assert.ok(pause && checkpointer.pausing, 'the commits wait');
    await within(pause, 2000, 'end of the pause at maxPauseMs');
    assert.equal(checkpointer.pausing, false);
    assert.equal(checkpointer.stats.pauseTimeouts, 1);
    assert.deepEqual(ended, [undefined], 'a pause that ran out has no checkpoint time');
    // After a pause that ran out, the next request within the back-off (1 s) is declined: the commits do not wait.
    const told: unknown[] = [];
    internals.worker = { postMessage: (m: unknown) => told.push(m) } as unknown as Worker;
    internals.onMessage({ type: 'wal-long', log: 5000 });
    assert.equal(checkpointer.beforeCommit(), undefined, 'declined during the back-off');
    assert.deepEqual(told, ['skip'], 'and the thread is told to ask later');
    assert.equal(checkpointer.stats.pauses, 1);
    (checkpointer as unknown as { grantAfter: number }).grantAfter = 0; // the back-off over
    internals.worker = thread;

    // The real thread: a pause under way when it exits ends with it.
    internals.worker = { postMessage: () => undefined } as unknown as Worker;
    internals.onMessage({ type: 'wal-long', log: 5000 });
    internals.worker = thread;
    const second = checkpointer.beforeCommit();
    assert.ok(second);
    await thread.terminate();
    await within(second, 2000, 'end of the pause when the thread exits');
    assert.equal(checkpointer.stats.pauseTimeouts, 1, 'ended by the exit, not by the timer');
  } finally {
    await checkpointer.stop();
  }
  assert.equal(checkpointer.beforeCommit(), undefined);
  db.close();
});

test('if the thread dies, the connection checkpoints on its own again', async () => {
  const { db, path } = fresh();
  const checkpointer = new WalCheckpointer(db, path, log);
  await checkpointer.start();
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 4096);
  await (checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  for (let i = 0; i < 50 && (db.pragma('wal_autocheckpoint', { simple: true }) as number) === 4096; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
  await checkpointer.stop();
  db.close();
});

test('on demand: a few inputs start no thread, a burst starts one, and it ends itself when idle, giving SQLite its 1,000 back', async () => {
  const { db, path, store } = fresh();
  const checkpointer = new WalCheckpointer(db, path, log, { minIntervalMs: 10, maxIntervalMs: 20, startAfterInputs: 20, idleExitMs: 300 });
  try {
    for (let b = 0; b < 3; b++) {
      cycle(store, b);
      for (let i = 0; i < 3; i++) checkpointer.noteInput();
    }
    assert.equal(checkpointer.stats.running, false, 'a household\'s few inputs start no thread');
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
    for (let b = 3; b < 10; b++) {
      cycle(store, b);
      for (let i = 0; i < 3; i++) checkpointer.noteInput();
    }
    assert.ok(await waitUntil(() => checkpointer.stats.running, 10_000), 'a burst of inputs started the thread');
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 4096);
    await within(checkpointer.nextCheckpoint(), 10_000, 'checkpoint');
    assert.ok(await waitUntil(() => !checkpointer.stats.running, 10_000), 'idle, the thread ended itself');
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'and the connection has SQLite\'s own checkpoint back');
    assert.equal(checkpointer.stats.starts, 1);
    assert.equal(checkpointer.stats.errors, 0);
    // The next burst starts it again.
    for (let i = 0; i < 20; i++) checkpointer.noteInput();
    assert.ok(await waitUntil(() => checkpointer.stats.running, 10_000), 'started again');
    assert.equal(checkpointer.stats.starts, 2);
  } finally {
    await checkpointer.stop();
  }
  assert.equal(checkpointer.stats.running, false);
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
  db.close();
});

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
