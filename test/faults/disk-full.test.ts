/**
 * Fault 4: the disk holding the database fills up while inputs flow.
 *
 * The database lives on a small tmpfs mounted for the test (root; CI runs as
 * root). Where mount is not permitted the agent's RLIMIT_FSIZE is lowered with
 * prlimit instead, so its database files cannot grow (see TinyDisk). The test
 * is skipped, saying why, only if neither works.
 *
 * Phase A, recovery by itself: once the disk is full the agent logs a clear
 * storage error (SQLITE_FULL: "database or disk is full"), keeps running, and
 * stops storing and answering (a few inputs may still fit in pages SQLite had
 * already allocated: those are stored and answered normally); when the filler
 * file is deleted every input of the batch is stored once and answered.
 *
 * Phase B, no acknowledgement of unwritten inputs: the disk is filled again, a
 * second batch sent, the agent SIGKILLed while it is blocked, space freed and
 * the agent restarted. Every input must still arrive: the broker kept whatever
 * the agent had not written, because the agent had not acknowledged it.
 *
 * `storage.synchronous: normal`: running out of space is not about fsync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultAgent, type AgentSettings } from '../helpers/agent-process.js';
import { faultScene, reconcile, account, countRows, heldForClient, LIGHT_BROKER_PERSISTENCE, missingFrom, Publisher, Tally, utteranceStream } from '../helpers/delivery.js';
import { TinyDisk } from '../helpers/faults.js';
import { mosquittoPath } from '../helpers/mosquitto.js';
import { sleep } from '../helpers/net.js';

const BATCH = 400;

/** Waits until the row count has not changed for `quietMs`; returns it. */
async function rowsWhenStill(dbPath: string, quietMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = countRows(dbPath);
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    const now = countRows(dbPath);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}

test('disk full under the database: clear error, nothing acknowledged unwritten, recovery when space returns', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 180_000 }, async (t) => {
  const disk = TinyDisk.create(16);
  if ('skip' in disk) {
    t.skip(disk.skip);
    return;
  }
  const started = Date.now();
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'disk', {
    broker: { extraConfig: LIGHT_BROKER_PERSISTENCE },
    dataDir: disk.dir,
    cleanup: () => disk.cleanup(),
  });
  const settings: AgentSettings = { brokerUrl: broker.url, dbPath, clientId, settings: { 'storage.synchronous': 'normal' } };

  const tally = await Tally.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { clientId: `tally-${clientId}`, persistent: true });
  closers.push(() => tally.close());
  let agent = await FaultAgent.start(settings);
  closers.push(() => agent.kill('SIGKILL'));
  const publisher = await Publisher.connect(broker.url, { clientId: `pub-${clientId}` });
  closers.push(() => publisher.close());

  const warm = utteranceStream('diskw', 50);
  await publisher.publishAll(warm);
  assert.ok(await tally.settle(() => warm.every((i) => tally.results.has(i.key)), { timeoutMs: 30_000 }), 'warm-up inputs not answered');

  // Phase A: full disk, then space comes back while the agent keeps running.
  const batchA = utteranceStream('diskA', BATCH);
  const rowsBeforeA = countRows(dbPath);
  const logsBeforeA = agent.logs.length;
  const filledA = disk.fill(agent.pid, dbPath);
  await publisher.publishAll(batchA);
  const errorA = await agent.waitForLog('cannot store', 30_000, logsBeforeA);
  const rowsStuckA = await rowsWhenStill(dbPath, 1500, 20_000);
  const answeredWhileFullA = batchA.filter((i) => tally.results.has(i.key)).length;
  const aliveWhileFullA = agent.alive;
  disk.free();
  const freedAt = Date.now();
  const recoveredA = await tally.settle(() => batchA.every((i) => tally.results.has(i.key)), { timeoutMs: 60_000 });
  const recoveryMsA = Date.now() - freedAt;
  const storageErrors = agent.logs.slice(logsBeforeA).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('cannot'));

  // Phase B: killed while the disk is full; what it had not written must still be with the broker.
  // The WAL that phase A's recovery grew may hold a whole batch without a new disk block (it is rewritten from
  // its start after each checkpoint), so batches keep coming, up to four, until the agent reports the full disk.
  const batchB: ReturnType<typeof utteranceStream> = [];
  const rowsBeforeB = countRows(dbPath);
  const logsBeforeB = agent.logs.length;
  disk.fill(agent.pid, dbPath);
  let errorB: Awaited<ReturnType<typeof agent.waitForLog>>;
  for (let round = 0; round < 4 && !errorB; round++) {
    const more = utteranceStream('diskB', BATCH, round * BATCH);
    batchB.push(...more);
    await publisher.publishAll(more);
    errorB = await agent.waitForLog('cannot store input', round === 3 ? 30_000 : 10_000, logsBeforeB);
  }
  const rowsAtKillB = await rowsWhenStill(dbPath, 1000, 20_000);
  await agent.kill('SIGKILL');
  disk.free();
  agent = await FaultAgent.start(settings);
  const recoveredB = await tally.settle(() => batchB.every((i) => tally.results.has(i.key)), { timeoutMs: 60_000 });

  const stopped = await agent.stop();
  const held = await heldForClient(broker.url, clientId);
  const ids = [...warm, ...batchA, ...batchB].map((i) => i.key);
  const { view, missingRows, doubleRows, missingResults, counts } = reconcile(ids, dbPath, tally, publisher);

  account(t, 'disk-full', {
    method: disk.method,
    ...counts,
    fillerBytesA: filledA,
    storedWhileFullA: rowsStuckA - rowsBeforeA,
    answeredWhileFullA,
    recoveryMsAfterFreeA: recoveryMsA,
    storedWhileFullB: rowsAtKillB - rowsBeforeB,
    publishedWhileFullB: batchB.length,
    logged: errorA ? `${String(errorA.msg)} (${String(errorA.code)}: ${String(errorA.err)})` : 'none',
    storageErrorLines: storageErrors.length,
    heldByBrokerAfter: held.held,
    seconds: ((Date.now() - started) / 1000).toFixed(1),
  });

  assert.ok(aliveWhileFullA, 'the agent died when the disk filled up');
  assert.ok(errorA, 'no storage error logged while the disk was full');
  assert.match(String(errorA.code), disk.method === 'tmpfs' ? /^SQLITE_FULL$/ : /^SQLITE_(FULL|IOERR)/, `logged ${JSON.stringify(errorA)}`);
  assert.ok(rowsStuckA - rowsBeforeA < BATCH, `the full disk never stopped the agent (${rowsStuckA - rowsBeforeA} of ${BATCH} stored)`);
  assert.ok(answeredWhileFullA < BATCH, 'every input was answered although the disk was full');
  assert.ok(recoveredA, `phase A not answered after space returned: ${missingFrom(batchA.map((i) => i.key), tally.results).length} missing`);
  assert.ok(errorB, 'phase B: the agent did not report the full disk before the kill');
  assert.ok(rowsAtKillB - rowsBeforeB < batchB.length, 'phase B: the full disk never stopped the agent');
  assert.ok(recoveredB, `phase B not answered after the restart: ${missingFrom(batchB.map((i) => i.key), tally.results).length} missing`);
  assert.equal(publisher.ackedAt.size, ids.length);
  assert.deepEqual(missingRows, []);
  assert.deepEqual(doubleRows, []);
  assert.equal(view.byStatus.done, ids.length, JSON.stringify(view.byStatus));
  assert.deepEqual(missingResults, []);
  assert.equal(view.unpublished, 0, 'outbox rows never acknowledged');
  assert.equal(stopped.code, 0, `the agent did not stop cleanly: ${stopped.code ?? stopped.signal}`);
  assert.equal(held.held, 0, 'the broker still held inputs the agent never acknowledged');
});
