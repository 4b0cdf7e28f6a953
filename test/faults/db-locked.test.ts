/**
 * Fault 3: another process holds SQLite's write lock (`BEGIN EXCLUSIVE`) for
 * several seconds while inputs flow.
 *
 * Phase A, recovery by itself: while the lock is held the agent stores nothing
 * (its row count does not move), answers nothing from the batch, logs the
 * problem, and keeps retrying; once the lock is released every input of the
 * batch is stored once and answered, with no restart.
 *
 * Phase B, proof that nothing was acknowledged before it was written: the lock
 * is taken again, a second batch is sent, the agent is SIGKILLed while it is
 * still blocked, the lock released and the agent restarted. Every input of the
 * batch must still arrive, which it can only do if the broker still held it,
 * i.e. if the agent had not acknowledged it.
 *
 * `storage.busyTimeoutMs` is 1,000 (default 5,000) so that the lock outlasts
 * several busy waits and the retry path, not just SQLite's own wait, is
 * exercised. `storage.synchronous: normal`: locking is not about durability.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultAgent, type AgentSettings } from '../helpers/agent-process.js';
import { faultScene, reconcile, account, countRows, heldForClient, LIGHT_BROKER_PERSISTENCE, missingFrom, Publisher, Tally, utteranceStream } from '../helpers/delivery.js';
import { holdWriteLock } from '../helpers/faults.js';
import { mosquittoPath } from '../helpers/mosquitto.js';
import { sleep } from '../helpers/net.js';

const BATCH = 300;
const LOCK_MS = 5000;

test('database locked by another process: nothing acknowledged until written, nothing lost, recovery by itself', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'lock', { broker: { extraConfig: LIGHT_BROKER_PERSISTENCE } });
  const settings: AgentSettings = { brokerUrl: broker.url, dbPath, clientId, settings: { 'storage.synchronous': 'normal', 'storage.busyTimeoutMs': 1000 } };

  const tally = await Tally.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { clientId: `tally-${clientId}`, persistent: true });
  closers.push(() => tally.close());
  let agent = await FaultAgent.start(settings);
  closers.push(() => agent.kill('SIGKILL'));
  const publisher = await Publisher.connect(broker.url, { clientId: `pub-${clientId}` });
  closers.push(() => publisher.close());

  const warm = utteranceStream('lockw', 20);
  await publisher.publishAll(warm);
  assert.ok(await tally.settle(() => warm.every((i) => tally.results.has(i.key)), { timeoutMs: 30_000 }), 'warm-up inputs not answered');

  // Phase A: the agent must wait, then recover by itself.
  const batchA = utteranceStream('lockA', BATCH);
  const lockA = await holdWriteLock(dbPath);
  closers.push(() => lockA.release());
  const logsBeforeA = agent.logs.length;
  const rowsBeforeA = countRows(dbPath);
  const lockedAt = Date.now();
  await publisher.publishAll(batchA);
  const storageErrorA = await agent.waitForLog('cannot store', LOCK_MS - 1000, logsBeforeA);
  let maxRowsDuringLockA = rowsBeforeA;
  while (Date.now() - lockedAt < LOCK_MS) {
    maxRowsDuringLockA = Math.max(maxRowsDuringLockA, countRows(dbPath));
    await sleep(200);
  }
  const answeredDuringLockA = batchA.filter((i) => tally.results.has(i.key)).length;
  const agentAliveDuringLockA = agent.alive;
  await lockA.release();
  const recoveredA = await tally.settle(() => batchA.every((i) => tally.results.has(i.key)), { timeoutMs: 60_000 });
  const recoveryMsA = Date.now() - lockedAt - LOCK_MS;

  // Phase B: killed while blocked; whatever it had not written must still be with the broker.
  const batchB = utteranceStream('lockB', BATCH);
  const lockB = await holdWriteLock(dbPath);
  closers.push(() => lockB.release());
  const logsBeforeB = agent.logs.length;
  const rowsBeforeB = countRows(dbPath);
  await publisher.publishAll(batchB);
  const storageErrorB = await agent.waitForLog('cannot store input', LOCK_MS, logsBeforeB);
  const rowsAtKillB = countRows(dbPath);
  await agent.kill('SIGKILL');
  await lockB.release();
  agent = await FaultAgent.start(settings);
  const recoveredB = await tally.settle(() => batchB.every((i) => tally.results.has(i.key)), { timeoutMs: 60_000 });

  const stopped = await agent.stop();
  const held = await heldForClient(broker.url, clientId);
  const ids = [...warm, ...batchA, ...batchB].map((i) => i.key);
  const { view, missingRows, doubleRows, missingResults, counts } = reconcile(ids, dbPath, tally, publisher);

  account(t, 'db-locked', {
    ...counts,
    lockMs: LOCK_MS,
    rowsGrowthWhileLockedA: maxRowsDuringLockA - rowsBeforeA,
    answeredWhileLockedA: answeredDuringLockA,
    recoveryMsAfterReleaseA: recoveryMsA,
    storedBeforeKillB: rowsAtKillB - rowsBeforeB,
    loggedA: storageErrorA ? `${String(storageErrorA.msg)} (${String(storageErrorA.code)})` : 'none',
    heldByBrokerAfter: held.held,
    seconds: ((Date.now() - started) / 1000).toFixed(1),
  });

  assert.ok(agentAliveDuringLockA, 'the agent died while the database was locked');
  assert.ok(storageErrorA, 'no storage error logged while the database was locked');
  assert.equal(storageErrorA.code, 'SQLITE_BUSY', `logged ${JSON.stringify(storageErrorA)}`);
  assert.equal(maxRowsDuringLockA, rowsBeforeA, 'rows were written while another process held the write lock');
  assert.equal(answeredDuringLockA, 0, 'inputs answered while the database was locked');
  assert.ok(recoveredA, `phase A not answered after the lock was released: ${missingFrom(batchA.map((i) => i.key), tally.results).length} missing`);
  assert.ok(storageErrorB, 'phase B: the agent did not report being blocked before the kill');
  assert.equal(rowsAtKillB, rowsBeforeB, 'phase B: rows written while locked');
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
