/**
 * A result the broker refuses (a dead letter): a real mosquitto 2 whose ACL file denies one site's result topic
 * answers that PUBLISH with PUBACK 0x87 Not authorized and keeps the connection. A real `hubnlu run` must set the
 * result aside in its database (not resend it after every reconnect), tell the site's error topic, report it apart
 * from the backlog, leave every other result alone; and once the ACL allows the topic, `hubnlu outbox retry` must get
 * it delivered exactly once by the running agent. The ACL denies every garage result, so a burst of them must not flood
 * the log or the error topic: one log line and one notice, the rest counted in one summary line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FaultAgent } from '../helpers/agent-process.js';
import { account, faultScene, LIGHT_BROKER_PERSISTENCE } from '../helpers/delivery.js';
import { mosquittoPath } from '../helpers/mosquitto.js';
import { Recorder } from '../helpers/mqtt.js';
import { runCli } from '../helpers/cli.js';
import { sleep } from '../helpers/net.js';

const DENY_GARAGE = ['topic deny hubnlu/garage/result', 'topic readwrite #'];
const ALLOW_ALL = ['topic readwrite #'];
/** Garage utterances in one burst: all refused, logged and told once (outbox-publisher.ts coalesces per 60 s window). */
const GARAGE = Array.from({ length: 10 }, (_, i) => `g-${i + 1}`);

/** Waits until `check` holds (polling), or fails naming what was awaited. */
async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface OutboxView {
  seq: number;
  topic: string;
  published_at: number | null;
  refused_at: number | null;
  refused_code: number | null;
  refused_reason: string | null;
  attempts: number;
  id: string;
}

/** The outbox rows with their input's id, read from the live database (a second, read-only connection). */
function outbox(dbPath: string): OutboxView[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .prepare(`SELECT o.seq, o.topic, o.published_at, o.refused_at, o.refused_code, o.refused_reason, o.attempts, i.id FROM outbox o JOIN inputs i ON i.seq = o.input_seq ORDER BY o.seq`)
      .all() as OutboxView[];
  } finally {
    db.close();
  }
}

test('a result the broker refuses (ACL, PUBACK 0x87) is set aside, told, not resent after reconnects; outbox retry delivers it once after the ACL allows it', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 180_000 }, async (t) => {
  const started = Date.now();
  let finished = false;
  const aux = mkdtempSync(join(tmpdir(), 'hubnlu-refused-'));
  t.after(() => rmSync(aux, { recursive: true, force: true }));
  const aclPath = join(aux, 'acl');
  const brokerLog = join(aux, 'mosquitto.log');
  writeFileSync(aclPath, DENY_GARAGE.join('\n') + '\n');
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'refused', {
    broker: {
      extraConfig: [
        ...LIGHT_BROKER_PERSISTENCE,
        `acl_file ${aclPath}`,
        // mosquitto's default. The helper's 0 (unlimited) makes mosquitto 2.0.11 close the connection after every refused
        // PUBACK (handle_publish.c ends a bad message with `out_packet_count >= max_queued_messages` → 0x97, read as a
        // socket error): the refusal still arrives first, but the results in flight beside it are then sent twice.
        'max_queued_messages 1000',
        // The broker's own log counts the PUBLISHes it denied ("Denied PUBLISH", a debug line), across restarts (appended).
        `log_dest file ${brokerLog}`,
        'log_type all',
      ],
    },
  });
  const denied = (): number => {
    try {
      return readFileSync(brokerLog, 'utf8').split('\n').filter((l) => l.includes('Denied PUBLISH') && l.includes("'hubnlu/garage/result'")).length;
    } catch {
      return 0;
    }
  };

  const agent = await FaultAgent.start({ brokerUrl: broker.url, dbPath, clientId, settings: { 'mqtt.protocolVersion': 5 } });
  closers.push(() => agent.kill('SIGKILL'));
  const listen = async (): Promise<Recorder> => {
    const r = await Recorder.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error', 'hubnlu/bridge/response/+'], { protocolVersion: 5 });
    closers.push(() => r.close());
    return r;
  };
  const resultsFor = (r: Recorder, id: string) => r.json((topic) => topic.endsWith('/result')).filter((m) => m.id === id);
  const utter = (r: Recorder, site: string, id: string) => r.publish(`hubnlu/${site}/utterance`, JSON.stringify({ id, text: 'turn off the lights' }));
  const refusedLines = () => agent.logged('the broker refused the message');
  // On a failure, what the agent said and what its outbox holds.
  t.after(() => {
    if (!finished) {
      t.diagnostic(agent.logs.slice(-40).map((l) => JSON.stringify(l).slice(0, 400)).join('\n'));
      t.diagnostic(JSON.stringify(outbox(dbPath)));
    }
  });

  /** Stops and starts the broker on the same port and data; resolves once the agent's (inbound) connection is back. */
  const restartBroker = async (): Promise<void> => {
    const connects = agent.logged('connected to broker').length;
    await broker.stop();
    await broker.start();
    await until('the agent back on the broker', () => agent.logged('connected to broker').length > connects);
  };

  // 1. Kitchen, ten garage (denied), kitchen.
  let sub = await listen();
  await utter(sub, 'kitchen', 'k-1');
  for (const id of GARAGE) await utter(sub, 'garage', id);
  await utter(sub, 'kitchen', 'k-2');
  const notices = () => sub.json((topic) => topic === 'hubnlu/garage/error').filter((m) => m.code === 'result_refused');
  await until('the kitchen results and the garage refusal notice', () => resultsFor(sub, 'k-1').length === 1 && resultsFor(sub, 'k-2').length === 1 && notices().length >= 1);
  await until('the refusal log line', () => refusedLines().length >= 1);
  await until('every garage result refused and marked', () => outbox(dbPath).filter((r) => r.id.startsWith('g-') && r.refused_at !== null).length === GARAGE.length);
  await until('the broker denying every garage result', () => denied() === GARAGE.length, 5000);
  await sleep(300); // a notice sent per refusal would have arrived by now
  assert.equal(notices().length, 1, 'one notice per refused result: the error topic is flooded');
  assert.equal(refusedLines().length, 1, 'one log line per refused result: the log is flooded');

  const notice = notices()[0];
  assert.equal(notice.id, 'g-1');
  assert.equal(notice.siteId, 'garage');
  assert.deepEqual(notice.refused, { seq: (notice.refused as { seq: number }).seq, topic: 'hubnlu/garage/result', reasonCode: 135, reason: 'Not authorized' });
  const line = refusedLines()[0];
  assert.equal(line.level, 'error', 'logged at error level');
  assert.equal(line.topic, 'hubnlu/garage/result');
  assert.equal(line.reasonCode, 135);
  assert.equal(line.reason, 'Not authorized');
  assert.match(String(line.msg), /0x87 Not authorized/);

  await until('the kitchen results marked published', () => outbox(dbPath).filter((r) => r.id.startsWith('k-') && r.published_at !== null).length === 2, 5000);
  let rows = outbox(dbPath);
  const garage = rows.filter((r) => r.id === 'g-1');
  assert.equal(garage.length, 1);
  assert.equal(garage[0].topic, 'hubnlu/garage/result');
  assert.equal(garage[0].published_at, null);
  assert.ok(garage[0].refused_at !== null, 'the garage result is not marked refused');
  assert.equal(garage[0].refused_code, 135);
  assert.equal(garage[0].refused_reason, 'Not authorized');
  const refusedSeq = garage[0].seq;
  assert.equal((notice.refused as { seq: number }).seq, refusedSeq);
  assert.equal(denied(), GARAGE.length);

  // Health: refused apart from the backlog; the CLI lists it.
  await sub.publish('hubnlu/bridge/request/health_check', JSON.stringify({ transaction: 'h1' }));
  await until('the health_check response', () => sub.json((topic) => topic === 'hubnlu/bridge/response/health_check').length === 1, 10_000);
  const health = sub.json((topic) => topic === 'hubnlu/bridge/response/health_check')[0] as { data: { queues: Record<string, number> } };
  assert.deepEqual(health.data.queues, { inFlight: 0, outboxUnpublished: 0, outboxRefused: GARAGE.length });
  const listed = runCli(['outbox', 'list', '--refused', '--json', '--db', dbPath]);
  assert.equal(listed.status, 0, listed.stderr);
  const list = JSON.parse(listed.stdout) as { counts: Record<string, number>; refused: Array<Record<string, unknown>> };
  assert.deepEqual(list.counts, { unpublished: 0, refused: GARAGE.length, published: 2 });
  assert.deepEqual(list.refused.map((r) => [r.seq, r.topic, r.reasonCode, r.id])[0], [refusedSeq, 'hubnlu/garage/result', 135, 'g-1']);
  assert.deepEqual(list.refused.map((r) => r.id).sort(), [...GARAGE].sort());
  const stats = runCli(['stats', '--db', dbPath]);
  assert.match(stats.stdout, new RegExp(`outbox\\s+waiting 0 · refused ${GARAGE.length}`));

  // 2. The broker restarts (same ACL): both connections come back; the refused result is not sent again.
  await restartBroker();
  sub = await listen();
  await utter(sub, 'kitchen', 'k-3');
  await until('a result after the reconnect', () => resultsFor(sub, 'k-3').length === 1);
  await sleep(2000); // the publisher reads the outbox when its connection is back: a resend would be refused and logged by now
  assert.equal(denied(), GARAGE.length, 'a refused result was sent again after the reconnect');
  assert.equal(refusedLines().length, 1, 'the refusal was logged again');
  assert.deepEqual(agent.logged('publish failed').filter((l) => l.topic === 'hubnlu/garage/result'), []);
  rows = outbox(dbPath);
  assert.equal(rows.find((r) => r.seq === refusedSeq)?.attempts, 0);
  assert.ok(rows.find((r) => r.seq === refusedSeq)?.refused_at !== null);

  // 3. The ACL allows the topic (broker restarted with it), then `outbox retry` with the agent running.
  writeFileSync(aclPath, ALLOW_ALL.join('\n') + '\n');
  await restartBroker();
  sub = await listen();
  await utter(sub, 'kitchen', 'k-4');
  await until('a result after the second reconnect', () => resultsFor(sub, 'k-4').length === 1);
  await sleep(500);
  assert.equal(resultsFor(sub, 'g-1').length, 0, 'the refused result went out before anyone re-queued it');
  const retried = runCli(['outbox', 'retry', '--all', '--db', dbPath]);
  assert.equal(retried.status, 0, retried.stderr);
  assert.match(retried.stdout, new RegExp(`re-queued #${refusedSeq} as #\\d+\\s+hubnlu/garage/result`));
  assert.match(retried.stdout, /the running agent \(pid \d+\) sends them/);
  await until('the garage results after outbox retry', () => GARAGE.every((id) => resultsFor(sub, id).length >= 1), 15_000);
  await sleep(1500);
  for (const id of GARAGE) assert.equal(resultsFor(sub, id).length, 1, `the re-queued result ${id} was delivered more than once`);
  await until('the re-queued result marked published', () => outbox(dbPath).every((r) => r.published_at !== null), 5000);
  rows = outbox(dbPath);
  assert.equal(rows.filter((r) => r.id === 'g-1').length, 1, 'the re-queued row was copied, not moved');
  assert.equal(rows.filter((r) => r.refused_at !== null).length, 0);
  const empty = runCli(['outbox', 'list', '--refused', '--db', dbPath]);
  assert.equal(empty.status, 3, `outbox list --refused with none: exit ${empty.status}`);
  for (const id of ['k-1', 'k-2']) assert.equal(resultsFor(sub, id).length, 0, `${id} was sent again`); // this listener came after them

  finished = true;
  const stopped = await agent.stop();
  assert.equal(stopped.code, 0);
  // The nine refusals after the first: counted in one line, when their window ended or at the stop.
  const summaries = agent.logged('…and ');
  assert.equal(summaries.length, 1, JSON.stringify(summaries));
  assert.equal(summaries[0].more, GARAGE.length - 1);
  assert.equal(summaries[0].topic, 'hubnlu/garage/result');
  assert.match(String(summaries[0].msg), /^…and 9 more refused on hubnlu\/garage\/result \(0x87 Not authorized\)/);
  account(t, 'refused-result', {
    refusedSeq,
    deniedByBroker: denied(),
    refusalLogLines: refusedLines().length,
    refusalSummaryLines: summaries.length,
    garageResultsAfterRetry: resultsFor(sub, 'g-1').length,
    seconds: ((Date.now() - started) / 1000).toFixed(1),
  });
});
