/**
 * Issue 7, defects 7 (second half) and 8: the database under the agent.
 *
 * Each test runs real `hubnlu run` processes on mosquitto and a real SQLite
 * file, and checks the exit code (78, EXIT.needsAttention, where a restart
 * cannot help), the message (it names the file and the fix) and that no input
 * was acknowledged that the database did not keep: inputs sent after the fault
 * are answered by the next agent, because the broker still held them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { agentEnv, FaultAgent, type AgentSettings } from '../helpers/agent-process.js';
import { runCli, startAgentProcess, type AgentProcess } from '../helpers/cli.js';
import { faultScene, LIGHT_BROKER_PERSISTENCE, missingFrom, Publisher, Tally, utteranceStream } from '../helpers/delivery.js';
import { holdWriteLock } from '../helpers/faults.js';
import { mosquittoPath } from '../helpers/mosquitto.js';
import { sleep } from '../helpers/net.js';
import { seedBulk } from '../store/seed.js';

const NEEDS_ATTENTION = 78;
const skip = mosquittoPath() ? false : 'mosquitto not installed';
const DAY = 86_400_000;

/** Waits for the process to end, at most `ms`; undefined if it is still running. */
async function exitWithin(proc: AgentProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  return Promise.race([proc.exited, sleep(ms).then(() => undefined)]);
}

/** The agent's stderr and log lines, for messages (the start-up failure goes to stderr through main()). */
async function output(proc: AgentProcess): Promise<string> {
  const stderr = await proc.ready.then(
    () => '',
    (err: Error) => err.message,
  );
  return `${stderr}\n${proc.logs.map((l) => JSON.stringify(l)).join('\n')}`;
}

/** Overwrites the first page of `table`'s b-tree (its root) with garbage, straight into the file. */
function corruptTableRoot(dbPath: string, table: string): number {
  const db = new Database(dbPath);
  const root = db.prepare(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(table) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma('wal_checkpoint(TRUNCATE)'); // everything in the main file, the WAL empty: the next read of that page comes from the file
  db.close();
  const fd = openSync(dbPath, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (root - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
  return root;
}

async function scene(t: Parameters<typeof faultScene>[0], name: string, settings: Record<string, string | number | boolean> = {}) {
  const s = await faultScene(t, name, { broker: { extraConfig: LIGHT_BROKER_PERSISTENCE } });
  const agentSettings: AgentSettings = { brokerUrl: s.broker.url, dbPath: s.dbPath, clientId: s.clientId, settings: { 'storage.synchronous': 'normal', ...settings } };
  const tally = await Tally.connect(s.broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { clientId: `tally-${s.clientId}`, persistent: true });
  s.closers.push(() => tally.close());
  const publisher = await Publisher.connect(s.broker.url, { clientId: `pub-${s.clientId}` });
  s.closers.push(() => publisher.close());
  return { ...s, settings: agentSettings, tally, publisher };
}

test('a second agent on the same database is refused (exit 78, names the file and the owner pid); logs and stats still work', { skip, timeout: 120_000 }, async (t) => {
  const { dbPath, closers, settings, tally, publisher } = await scene(t, 'second');
  const first = await FaultAgent.start(settings);
  closers.push(() => first.kill('SIGKILL'));
  const warm = utteranceStream('second', 10);
  await publisher.publishAll(warm);
  assert.ok(await tally.settle(() => warm.every((i) => tally.results.has(i.key)), { timeoutMs: 30_000 }), 'first agent did not answer');

  const second = startAgentProcess(agentEnv({ ...settings, clientId: `${settings.clientId}-2` }));
  closers.push(async () => second.child.kill('SIGKILL'));
  const exit = await exitWithin(second, 30_000);
  const text = await output(second);
  assert.equal(exit?.code, NEEDS_ATTENTION, `second agent: ${JSON.stringify(exit)}\n${text}`);
  assert.ok(text.includes(dbPath), `message does not name the database: ${text}`);
  assert.match(text, new RegExp(`another hubnlu agent \\(pid ${first.pid}\\b`), text);
  assert.ok(first.alive, 'the first agent died');

  // The read-only commands run next to it.
  const logs = runCli(['logs', '--db', dbPath, '--json', '--limit', '5']);
  assert.equal(logs.status, 0, logs.stderr);
  assert.equal((JSON.parse(logs.stdout) as unknown[]).length, 5);
  const stats = runCli(['stats', '--db', dbPath]);
  assert.equal(stats.status, 0, stats.stderr);

  // Stopped cleanly, the lock goes with it; killed, the next agent takes over the stale lock.
  assert.equal((await first.stop()).code, 0);
  assert.equal(existsSync(`${dbPath}.lock`), false, 'lock file left after a clean stop');
  const third = await FaultAgent.start(settings);
  const lockOwner = JSON.parse(readFileSync(`${dbPath}.lock`, 'utf8')) as { pid: number };
  assert.equal(lockOwner.pid, third.pid);
  await third.kill('SIGKILL');
  const fourth = await FaultAgent.start(settings);
  closers.push(() => fourth.kill('SIGKILL'));
  assert.ok(fourth.logged('took over a stale lock').length === 1, 'stale lock not reported');
  assert.equal((await fourth.stop()).code, 0);
});

test('the database file deleted while running: the agent stops with exit 78 and acknowledges nothing into the deleted file', { skip, timeout: 120_000 }, async (t) => {
  const { dbPath, closers, settings, tally, publisher } = await scene(t, 'deleted');
  const agent = await FaultAgent.start(settings);
  closers.push(() => agent.kill('SIGKILL'));
  const warm = utteranceStream('del-warm', 20);
  await publisher.publishAll(warm);
  assert.ok(await tally.settle(() => warm.every((i) => tally.results.has(i.key)), { timeoutMs: 30_000 }));

  rmSync(dbPath);
  const batch = utteranceStream('del', 50);
  await publisher.publishAll(batch);
  const exit = await Promise.race([agent.kill('SIGCONT'), sleep(15_000).then(() => undefined)]);
  const failure = agent.logged('stopping: the database cannot be used')[0];
  assert.equal(exit?.code, NEEDS_ATTENTION, `agent still running or wrong exit: ${JSON.stringify(exit)}`);
  assert.ok(failure && String(failure.err).includes(dbPath) && /was deleted/.test(String(failure.err)), JSON.stringify(failure));

  // A new agent (new file): every input sent after the deletion is answered, so none had been acknowledged.
  const next = await FaultAgent.start(settings);
  closers.push(() => next.kill('SIGKILL'));
  const answered = await tally.settle(() => batch.every((i) => tally.results.has(i.key)), { timeoutMs: 60_000 });
  assert.ok(answered, `lost after the deletion: ${missingFrom(batch.map((i) => i.key), tally.results).join(', ')}`);
  assert.equal((await next.stop()).code, 0);
});

test('a damaged database at start: exit 78 with the file named and the fix (quick_check; and a file that is not SQLite at all)', { skip, timeout: 120_000 }, async (t) => {
  const { dbPath, settings } = await scene(t, 'corrupt-start');
  seedBulk(dbPath, { total: 3000, expired: 0, oldAt: 0, recentAt: Date.now() - DAY });
  corruptTableRoot(dbPath, 'inputs');
  const proc = startAgentProcess(agentEnv(settings));
  const exit = await exitWithin(proc, 30_000);
  const text = await output(proc);
  assert.equal(exit?.code, NEEDS_ATTENTION, text);
  assert.match(text, /is damaged \(PRAGMA quick_check/, text);
  assert.ok(text.includes(dbPath) && text.includes('.recover'), text);

  // Page 1 overwritten: not a database at all (SQLITE_NOTADB).
  const fd = openSync(dbPath, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 0);
  closeSync(fd);
  const again = startAgentProcess(agentEnv(settings));
  const exit2 = await exitWithin(again, 30_000);
  const text2 = await output(again);
  assert.equal(exit2?.code, NEEDS_ATTENTION, text2);
  assert.match(text2, /SQLITE_NOTADB/, text2);
});

test('a page damaged while running, hit by a write: exit 78 at once, not retried forever; nothing acknowledged', { skip, timeout: 120_000 }, async (t) => {
  const { dbPath, closers, settings, tally, publisher } = await scene(t, 'corrupt-run');
  seedBulk(dbPath, { total: 3000, expired: 0, oldAt: 0, recentAt: Date.now() - DAY });
  const agent = await FaultAgent.start(settings);
  closers.push(() => agent.kill('SIGKILL'));
  const warm = utteranceStream('cor-warm', 10);
  await publisher.publishAll(warm);
  assert.ok(await tally.settle(() => warm.every((i) => tally.results.has(i.key)), { timeoutMs: 30_000 }));
  await sleep(500); // let the last acknowledgements be marked published

  corruptTableRoot(dbPath, 'inputs');
  const batch = utteranceStream('cor', 20);
  await publisher.publishAll(batch);
  const exit = await Promise.race([agent.kill('SIGCONT'), sleep(20_000).then(() => undefined)]);
  const failure = agent.logged('stopping: the database cannot be used')[0];
  const retries = agent.logged('cannot store').length;
  assert.equal(exit?.code, NEEDS_ATTENTION, `agent still running or wrong exit: ${JSON.stringify(exit)}; ${retries} retries logged`);
  assert.match(String(failure?.err), /SQLITE_CORRUPT|damaged/, JSON.stringify(failure));
  assert.ok(String(failure?.err).includes(dbPath));
  assert.equal(batch.filter((i) => tally.results.has(i.key)).length, 0, 'inputs answered from a damaged database');
});

test('a database file nobody may write (immutable): exit 78 at start, saying how to fix it', { skip, timeout: 120_000 }, async (t) => {
  const { dbPath, settings, closers } = await scene(t, 'readonly');
  seedBulk(dbPath, { total: 100, expired: 0, oldAt: 0, recentAt: Date.now() - DAY });
  // chattr +i: read-only even for root (tests run as root in CI, where chmod would not stop a write).
  const chattr = spawnSync('chattr', ['+i', dbPath], { encoding: 'utf8' });
  if (chattr.status !== 0) {
    t.skip(`chattr +i not possible here: ${chattr.stderr || chattr.error?.message}`);
    return;
  }
  closers.push(async () => spawnSync('chattr', ['-i', dbPath]));
  const proc = startAgentProcess(agentEnv(settings));
  const exit = await exitWithin(proc, 30_000);
  const text = await output(proc);
  assert.equal(exit?.code, NEEDS_ATTENTION, text);
  assert.ok(text.includes(dbPath), text);
  assert.match(text, /SQLITE_READONLY|EPERM|EACCES/, text);
  assert.match(text, /cannot write it/, text);
});

test('SIGTERM while a write is being retried (database locked by another process): the agent exits within seconds, inputs kept', { skip, timeout: 120_000 }, async (t) => {
  const { dbPath, closers, settings, tally } = await scene(t, 'sigterm-retry', { 'storage.busyTimeoutMs': 1000 });
  // 30 unanswered inputs left by a previous run: the agent resumes them at start and must commit their results.
  seedBulk(dbPath, { total: 30, expired: 30, oldAt: Date.now() - 60_000, recentAt: 0, pendingEvery: 1 });
  const lock = await holdWriteLock(dbPath);
  closers.push(() => lock.release());
  const agent = await FaultAgent.start(settings);
  closers.push(() => agent.kill('SIGKILL'));
  assert.ok(await agent.waitForLog('cannot store results', 10_000), 'the agent did not get stuck retrying');

  const sentAt = Date.now();
  const stopped = await agent.stop(20_000);
  const stopMs = Date.now() - sentAt;
  assert.notEqual(stopped.signal, 'SIGKILL', `SIGTERM ignored: killed after ${stopMs} ms`);
  assert.ok(stopMs < 8000, `took ${stopMs} ms to stop`);
  await lock.release();

  // The inputs are still pending in the database: the next agent answers them.
  const next = await FaultAgent.start(settings);
  closers.push(() => next.kill('SIGKILL'));
  const ids = Array.from({ length: 30 }, (_, i) => `bulk-${i}`);
  assert.ok(await tally.settle(() => ids.every((id) => tally.results.has(id)), { timeoutMs: 60_000 }), `unanswered: ${missingFrom(ids, tally.results).length}`);
  assert.equal((await next.stop()).code, 0);
});
