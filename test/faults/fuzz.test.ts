/**
 * Fault 5: 20,000 random and mutated payloads over MQTT into a real agent
 * process (seeded: HUBNLU_FUZZ_SEED replays a run, HUBNLU_FUZZ_COUNT sizes it).
 *
 * What must hold: the agent stays up and keeps answering; its resident memory
 * stays under a ceiling and does not keep growing with the number of messages;
 * and every message is accounted for exactly once:
 *   received = results + rejected (+ inference errors), with
 *   rows = sent, result messages = `done` rows, error messages = `rejected` + `error` rows.
 *
 * `storage.synchronous: normal`; log level `info` (each rejection is logged at warn, as in production).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultAgent } from '../helpers/agent-process.js';
import { faultScene, account, countRows, LIGHT_BROKER_PERSISTENCE, Publisher, readRows, Tally, type Outgoing } from '../helpers/delivery.js';
import { fuzzMessages } from '../helpers/fuzz.js';
import { mosquittoPath } from '../helpers/mosquitto.js';

const SEED = Number(process.env.HUBNLU_FUZZ_SEED ?? 20_240_611);
const COUNT = Number(process.env.HUBNLU_FUZZ_COUNT ?? 20_000);
const RSS_CEILING = 400 * 1024 * 1024;
/** Growth allowed between half and all of the messages stored: GC and allocator noise, not a per-message leak. */
const RSS_GROWTH_ALLOWANCE = 64 * 1024 * 1024;
const MB = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

test(`fuzz: ${COUNT} hostile payloads (seed ${SEED}): the agent stays up, memory stays bounded, every message accounted for`, { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'fuzz', { broker: { extraConfig: LIGHT_BROKER_PERSISTENCE } });

  const tally = await Tally.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { clientId: `tally-${clientId}`, persistent: true });
  closers.push(() => tally.close());
  const agent = await FaultAgent.start({ brokerUrl: broker.url, dbPath, clientId, settings: { 'storage.synchronous': 'normal' } });
  closers.push(() => agent.kill('SIGKILL'));
  const publisher = await Publisher.connect(broker.url, { clientId: `pub-${clientId}` });
  closers.push(() => publisher.close());

  const kinds: Record<string, number> = {};
  const items: Outgoing[] = [];
  let n = 0;
  for (const m of fuzzMessages(SEED, COUNT)) {
    kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
    items.push({ key: `m${n++}`, topic: m.topic, payload: m.payload });
  }

  // RSS against the number of messages the agent has stored, and the flow of its answers, sampled as it goes.
  const samples: Array<{ at: number; rows: number; answered: number; rss: number }> = [];
  const sampler = setInterval(() => {
    const rss = agent.rssBytes();
    if (rss !== undefined) samples.push({ at: Date.now(), rows: countRows(dbPath), answered: tally.resultMessages + tally.errorMessages, rss });
  }, 250);
  closers.push(async () => clearInterval(sampler));

  await publisher.publishAll(items, { window: 500 });
  const settled = await tally.settle(() => tally.resultMessages + tally.errorMessages >= COUNT, { timeoutMs: 240_000, quietMs: 15_000, progress: () => countRows(dbPath) });
  clearInterval(sampler);
  const aliveAfter = agent.alive;

  // Still answering after the storm.
  const probe = { key: 'fz-probe', topic: 'hubnlu/kitchen/utterance', payload: JSON.stringify({ id: 'fz-probe', text: 'turn off the kitchen lights' }) };
  await publisher.publishAll([probe]);
  const answersAfter = await tally.settle(() => tally.results.has('fz-probe'), { timeoutMs: 15_000 });
  const stopped = await agent.stop();

  const view = readRows(dbPath);
  const done = view.byStatus.done ?? 0;
  const rejected = view.byStatus.rejected ?? 0;
  const failed = view.byStatus.error ?? 0;
  const pending = view.byStatus.pending ?? 0;
  const stats = stopped.stats ?? {};
  const received = Number(stats.received ?? NaN);
  const maxRss = Math.max(...samples.map((s) => s.rss));
  /** RSS when the agent had stored `fraction` of the messages. */
  const rssAt = (fraction: number): number => samples.find((s) => s.rows >= fraction * COUNT)?.rss ?? samples.at(-1)?.rss ?? 0;
  const rssMid = rssAt(0.5);
  // Compared while messages are being stored: the burst of results published once the flood ends raises RSS for a
  // while (V8 collects lazily; with --expose-gc and a forced GC the heap stayed flat at ~41 MB over 100,000 messages).
  const rssEnd = rssAt(1);
  // Longest stretch in which inputs were being stored but no answer arrived (see Tally.settle).
  let stallMs = 0;
  for (let i = 0, from = 0; i < samples.length; i++) {
    if (i === 0 || samples[i].answered !== samples[i - 1].answered) from = i;
    else if (samples[i].rows > samples[from].rows) stallMs = Math.max(stallMs, samples[i].at - samples[from].at);
  }

  account(t, 'fuzz', {
    seed: SEED,
    sent: COUNT + 1,
    brokerAcked: publisher.ackedAt.size,
    received,
    rows: view.total,
    done,
    rejected,
    inferenceErrors: failed,
    pending,
    results: tally.resultMessages,
    errors: tally.errorMessages,
    duplicates: tally.resultDuplicates + tally.errorDuplicates,
    missing: COUNT + 1 - view.total,
    agentDuplicates: stats.duplicates,
    rssMBByTenthStored: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((f) => MB(rssAt(f))).join('/'),
    rssMidMB: MB(rssMid),
    rssEndMB: MB(rssEnd),
    rssAfterDrainMB: MB(samples.at(-1)?.rss ?? 0),
    rssMaxMB: MB(maxRss),
    longestAnswerStallMs: stallMs,
    errorCodes: Object.fromEntries([...tally.errorCodes].sort((a, b) => b[1] - a[1])),
    kinds,
    seconds: ((Date.now() - started) / 1000).toFixed(1),
  });

  assert.ok(aliveAfter, 'the agent died during the fuzz run');
  assert.ok(settled, `only ${tally.resultMessages + tally.errorMessages} of ${COUNT} messages answered`);
  assert.ok(answersAfter, 'the agent no longer answers a valid utterance after the fuzz run');
  assert.equal(stopped.code, 0, `the agent did not stop cleanly: ${stopped.code ?? stopped.signal}`);
  assert.equal(publisher.failed.length, 0, `publishes failed: ${JSON.stringify(publisher.failed.slice(0, 3))}`);
  assert.equal(publisher.ackedAt.size, COUNT + 1);
  // Every message became exactly one row; the agent counted each once.
  assert.equal(view.total, COUNT + 1, 'rows = messages sent');
  assert.equal(pending, 0, 'inputs left pending');
  assert.equal(received - Number(stats.duplicates), COUNT + 1, `agent received ${received} (duplicates ${String(stats.duplicates)})`);
  assert.equal(Number(stats.accepted) + Number(stats.rejected), COUNT + 1, 'received = accepted + rejected');
  assert.equal(Number(stats.rejected), rejected, 'rejections counted by the agent = rejected rows');
  assert.equal(Number(stats.accepted), done + failed, 'accepted = rows answered with a result or an inference error');
  // Every row produced exactly one message on the right topic.
  assert.equal(tally.resultMessages, done, 'result messages = done rows');
  assert.equal(tally.errorMessages, rejected + failed, 'error messages = rejected + error rows');
  assert.equal(tally.unparsable, 0, 'the agent published a message that is not JSON');
  assert.ok(done > 0 && rejected > 0, 'the mix had both valid and rejected inputs');
  // Memory: under the ceiling and flat in the second half of the run.
  assert.ok(samples.length >= 5, 'too few memory samples');
  assert.ok(maxRss < RSS_CEILING, `RSS peaked at ${MB(maxRss)} MB (ceiling ${MB(RSS_CEILING)} MB)`);
  assert.ok(rssEnd - rssMid < RSS_GROWTH_ALLOWANCE, `RSS grew ${MB(rssEnd - rssMid)} MB while the second half was stored (${MB(rssMid)} → ${MB(rssEnd)} MB)`);
});
