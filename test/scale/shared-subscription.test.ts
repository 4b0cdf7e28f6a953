/**
 * Scale-out (issue 10): several real `hubnlu run` processes, each with its own client id and database, share the
 * inputs of one mosquitto through `input.shareGroup` (MQTT 5 shared subscriptions).
 *
 * What must hold:
 * - every input is answered exactly once across the group: one row in exactly one member's database, one result
 *   message, no error; no agent takes another's input;
 * - the load is split: each member stores a share (mosquitto 2.0 hands a shared subscription's messages round-robin);
 * - a `$share/...` delivery carries the real topic: rows record `hubnlu/<site>/utterance`, the site comes from it,
 *   and the result goes to that site's result topic; Hermes queries are shared too;
 * - a member SIGKILLed mid-flood and restarted (as systemd would) loses nothing: mosquitto keeps the messages it
 *   routed to the dead member in that member's persistent session and redelivers them to it (not to another member),
 *   where its own database recognises what it had stored. Every message is counted.
 *
 * Small N for CI (HUBNLU_SCALE_INPUTS); throughput belongs to bench/scale.ts.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultAgent } from '../helpers/agent-process.js';
import { account, heldForClient, LIGHT_BROKER_PERSISTENCE, Publisher, Tally, utteranceStream, type Outgoing } from '../helpers/delivery.js';
import { Mosquitto, mosquittoPath } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';
import { groupRows, groupUnpublished, startGroup, type GroupMember } from '../helpers/share-group.js';

const N = Number(process.env.HUBNLU_SCALE_INPUTS ?? 600);
const GROUP = 'nlu';
const skip = mosquittoPath() ? false : 'mosquitto not installed';

async function scene(t: TestContext, name: string): Promise<{ broker: Mosquitto; dir: string; closers: Array<() => Promise<unknown>> }> {
  const broker = new Mosquitto({ extraConfig: LIGHT_BROKER_PERSISTENCE });
  await broker.start();
  const dir = mkdtempSync(join(tmpdir(), `hubnlu-scale-${name}-`));
  const closers: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(broker.dir, { recursive: true, force: true });
  });
  return { broker, dir, closers };
}

/** Utterances on five sites, and every tenth one a Hermes query (site in the payload). */
function inputs(prefix: string, n: number): Outgoing[] {
  return utteranceStream(prefix, n).map((item, i) =>
    i % 10 === 9 ? { key: item.key, topic: 'hermes/nlu/query', payload: JSON.stringify({ input: 'turn on the hall lights', id: item.key, siteId: `site${i % 5}` }) } : item,
  );
}

/** The checks every run shares: one row per input across the group, at the real topic, and who took how many. */
function checkGroup(items: readonly Outgoing[], members: readonly GroupMember[]): { perMember: Record<string, number>; rows: number; doubleRows: string[]; missingRows: string[] } {
  const rows = groupRows(members);
  const byId = new Map<string, typeof rows>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const perMember: Record<string, number> = Object.fromEntries(members.map((m) => [m.name, 0]));
  for (const r of rows) perMember[r.member]++;
  const doubleRows = items.filter((i) => (byId.get(i.key)?.length ?? 0) > 1).map((i) => i.key);
  const missingRows = items.filter((i) => !byId.has(i.key)).map((i) => i.key);
  items.forEach((item, i) => {
    const row = byId.get(item.key)?.[0];
    if (!row) return;
    // The real topic, not the $share/... filter; the site from the topic (or the Hermes payload).
    assert.equal(row.topic, item.topic, `${item.key}: stored topic`);
    assert.equal(row.siteId, `site${i % 5}`, `${item.key}: site id`);
    assert.equal(row.resultTopic, `hubnlu/site${i % 5}/result`, `${item.key}: result topic`);
    assert.equal(row.status, 'done', `${item.key}: status`);
  });
  return { perMember, rows: rows.length, doubleRows, missingRows };
}

for (const count of [2, 4]) {
  test(`${count} agents with a shared subscription: every input answered exactly once, the load split between them`, { skip, timeout: 600_000 }, async (t) => {
    const started = Date.now();
    const { broker, dir, closers } = await scene(t, `group${count}`);
    const tally = await Tally.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error', 'hermes/#'], { clientId: `tally-${count}-${process.pid}` });
    closers.push(() => tally.close());
    const prefix = `hubnlu-g${count}-${process.pid}`;
    if (count === 2) {
      // Member 0's client id ran once before without input.shareGroup: its session on the broker still holds the plain
      // hubnlu/+/utterance. Joining the group must drop it, or member 0 would get every input besides its share.
      const before = await FaultAgent.start({ brokerUrl: broker.url, dbPath: join(dir, 'before.db'), clientId: `${prefix}-0`, settings: { 'storage.synchronous': 'normal' } }, 180_000);
      assert.ok((before.startup.subscriptions as string[]).includes('hubnlu/+/utterance'));
      await before.stop();
    }
    const members = await startGroup(broker.url, dir, prefix, count, GROUP);
    closers.push(() => Promise.all(members.map((m) => m.agent.kill('SIGKILL'))));

    for (const m of members) {
      const subs = m.agent.startup.subscriptions as string[];
      assert.ok(subs.includes(`$share/${GROUP}/hubnlu/+/utterance`), `${m.name} subscribes to ${subs.join(', ')}`);
      assert.ok(subs.includes(`$share/${GROUP}/hermes/nlu/query`), 'Hermes queries are inputs too: shared');
      assert.ok(subs.some((s) => s.startsWith('hubnlu/bridge/request')), 'bridge requests are per agent: not shared');
    }

    const items = inputs(`g${count}`, N);
    const publisher = await Publisher.connect(broker.url, { clientId: `pub-${count}-${process.pid}` });
    closers.push(() => publisher.close());
    await publisher.publishAll(items, { window: 100 });
    const answered = await tally.settle(() => items.every((i) => tally.results.has(i.key)), { timeoutMs: 300_000 });
    await sleep(500); // a late second answer would still be counted
    const stops = await Promise.all(members.map((m) => m.agent.stop()));

    const group = checkGroup(items, members);
    const held = await Promise.all(members.map((m) => heldForClient(broker.url, m.name, 500)));
    account(t, `share-group-${count}`, {
      agents: count,
      sent: items.length,
      brokerAcked: publisher.ackedAt.size,
      rows: group.rows,
      perAgent: group.perMember,
      results: tally.resultMessages,
      distinctResults: tally.results.size,
      duplicates: tally.resultDuplicates,
      errors: tally.errorMessages,
      heldByBroker: held.reduce((n, h) => n + h.held, 0),
      seconds: ((Date.now() - started) / 1000).toFixed(1),
    });

    assert.equal(publisher.failed.length, 0);
    assert.equal(publisher.ackedAt.size, items.length, 'the broker acknowledged every input');
    assert.ok(answered, `${items.filter((i) => !tally.results.has(i.key)).length} inputs never answered`);
    assert.deepEqual(group.missingRows, [], 'inputs without a row in any member');
    assert.deepEqual(group.doubleRows, [], 'inputs stored by two members (or twice)');
    assert.equal(group.rows, items.length, 'rows across the group');
    assert.equal(tally.results.size, items.length);
    assert.equal(tally.resultDuplicates, 0, 'no input answered twice');
    assert.equal(tally.errorMessages, 0, `error messages: ${JSON.stringify([...tally.errorCodes])}`);
    // Hermes answers once too: one intentParsed per query.
    assert.equal(tally.topics.get('hermes/nlu/intentParsed') ?? 0, items.filter((i) => i.topic === 'hermes/nlu/query').length);
    for (const [name, n] of Object.entries(group.perMember)) {
      assert.ok(n >= items.length / count / 2, `${name} took only ${n} of ${items.length} inputs: ${JSON.stringify(group.perMember)}`);
    }
    assert.equal(groupUnpublished(members), 0);
    assert.ok(stops.every((s) => s.code === 0), `an agent did not stop cleanly: ${JSON.stringify(stops.map((s) => s.code ?? s.signal))}`);
    assert.equal(held.reduce((n, h) => n + h.held, 0), 0, 'the broker still held inputs for a member');

    // README's recipe for one log of the whole group: every member's inputs in one table, with the member's name.
    if (spawnSync('sqlite3', ['-version']).status === 0) {
      const merged = join(dir, 'group.db');
      const attach = members.map((m, i) => `ATTACH '${m.settings.dbPath}' AS m${i};`).join('\n');
      const union = members.map((m, i) => `SELECT '${m.name}' AS member, * FROM m${i}.inputs`).join(' UNION ALL ');
      const made = spawnSync('sqlite3', [merged], { input: `${attach}\nCREATE TABLE inputs AS ${union};\n`, encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const q = spawnSync('sqlite3', ['-readonly', merged, 'SELECT count(*), count(DISTINCT id), count(DISTINCT member) FROM inputs'], { encoding: 'utf8' });
      assert.equal(q.stdout.trim(), `${items.length}|${items.length}|${count}`);
    }
  });
}

test('a member SIGKILLed mid-flood and restarted: nothing lost, nothing stored twice across the group', { skip, timeout: 600_000 }, async (t) => {
  const started = Date.now();
  const n = Math.max(N, 1500);
  const { broker, dir, closers } = await scene(t, 'kill');
  const tally = await Tally.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { clientId: `tally-kill-${process.pid}`, persistent: true });
  closers.push(() => tally.close());
  const members = await startGroup(broker.url, dir, `hubnlu-gk-${process.pid}`, 2, GROUP);
  closers.push(() => Promise.all(members.map((m) => m.agent.kill('SIGKILL'))));
  const [survivor, victim] = members;

  const items = utteranceStream('gk', n);
  const publisher = await Publisher.connect(broker.url, { clientId: `pub-kill-${process.pid}`, persistent: true });
  closers.push(() => publisher.close());
  const publishing = publisher.publishAll(items, { window: 100, ratePerSecond: 600 });

  const victimRows = () => groupRows([victim]).length;
  assert.ok(await waitFor(() => victimRows() >= n * 0.15, 240_000, 20), `the victim stored only ${victimRows()} inputs`);
  const killed = await victim.agent.kill('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const rowsAtKill = victimRows();
  const survivorRows = () => groupRows([survivor]).length;
  const survivorAtKill = survivorRows();
  await sleep(1500); // down for a while: its share waits in its session at the broker; the survivor goes on
  const survivorStoredWhileDown = survivorRows() - survivorAtKill;
  victim.agent = await FaultAgent.start(victim.settings, 180_000);
  const resumed = Number(victim.agent.logged('resuming inputs').at(0)?.resumed ?? 0);

  await publishing;
  const answered = await tally.settle(() => items.every((i) => tally.results.has(i.key)), { timeoutMs: 300_000 });
  await sleep(500);
  const stops = await Promise.all(members.map((m) => m.agent.stop()));
  const group = checkGroup(items, members);
  const held = await Promise.all(members.map((m) => heldForClient(broker.url, m.name, 500)));

  account(t, 'share-group-kill', {
    agents: 2,
    sent: n,
    brokerAcked: publisher.ackedAt.size,
    rows: group.rows,
    perAgent: group.perMember,
    victimRowsAtKill: rowsAtKill,
    survivorStoredWhileVictimDown: survivorStoredWhileDown,
    resumedPending: resumed,
    redeliveredDeduped: stops[1].stats?.duplicates,
    results: tally.resultMessages,
    distinctResults: tally.results.size,
    duplicates: tally.resultDuplicates,
    errors: tally.errorMessages,
    heldByBroker: held.reduce((k, h) => k + h.held, 0),
    seconds: ((Date.now() - started) / 1000).toFixed(1),
  });

  assert.equal(publisher.failed.length, 0);
  assert.equal(publisher.ackedAt.size, n, 'the broker acknowledged every input');
  assert.ok(answered, `${items.filter((i) => !tally.results.has(i.key)).length} inputs never answered`);
  assert.deepEqual(group.missingRows, [], 'inputs without a row in any member');
  assert.deepEqual(group.doubleRows, [], 'inputs stored by two members (or twice)');
  assert.equal(group.rows, n);
  assert.equal(tally.errorMessages, 0);
  // At-least-once results, as for one agent (test/faults/agent-sigkill.test.ts): only the victim's publish window
  // and unrecorded PUBACKs can repeat, and a repeat carries the same id on the same topic.
  assert.ok(tally.resultDuplicates <= 128 + 255, `${tally.resultDuplicates} repeated results`);
  assert.ok(survivorStoredWhileDown > 0, 'the survivor took no input while the victim was down');
  assert.ok(rowsAtKill < group.perMember[victim.name], 'the victim took more inputs after its restart (its queued share)');
  assert.equal(groupUnpublished(members), 0);
  assert.ok(stops.every((s) => s.code === 0));
  assert.equal(held.reduce((k, h) => k + h.held, 0), 0, 'the broker still held inputs for a member');
});
