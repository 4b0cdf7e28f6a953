/** `hubnlu label`: one label, checks, history, import (all or nothing), and labelling next to a running agent. Processes on real SQLite files. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { CLI, runCli, startAgentProcess } from '../helpers/cli.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';
import { holdWriteLock } from '../helpers/faults.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { seedDatabase } from '../store/seed.js';

let dir: string;
let db: string;
const now = Date.now();

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-label-'));
  db = join(dir, 'hubnlu.db');
  seedDatabase(db, [
    { id: 'a1', receivedAt: now - 5000, site: 'hall', status: 'done', text: 'could you open the garage', intent: 'unknown', confidence: 0.2, sentiment: 'neutral', intentModel: 'hubnlu-intent@1' },
    { id: 'a2', receivedAt: now - 4000, site: 'hall', status: 'done', text: 'turn off the kitchen lights', intent: 'iot_hue_lightoff', confidence: 0.9, sentiment: 'neutral', intentModel: 'hubnlu-intent@1' },
    { id: 'dup', receivedAt: now - 3000, site: 'hall', status: 'done', text: 'what time is it', intent: 'datetime_query', confidence: 0.9 },
    { id: 'dup', receivedAt: now - 2000, site: 'den', status: 'done', text: 'what is the time', intent: 'datetime_query', confidence: 0.9 },
    { id: 'p1', receivedAt: now - 1000, site: 'hall', status: 'pending', text: 'wake me at seven' },
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir });
const gold = (id: string) =>
  withDb((c) => c.prepare('SELECT gold_intent, gold_slots, gold_sentiment, gold_by FROM inputs WHERE id = ? ORDER BY seq DESC LIMIT 1').get(id)) as {
    gold_intent: string | null;
    gold_slots: string | null;
    gold_sentiment: string | null;
    gold_by: string | null;
  };
function withDb<T>(fn: (c: Database.Database) => T): T {
  const c = new Database(db, { readonly: true });
  try {
    return fn(c);
  } finally {
    c.close();
  }
}

describe('hubnlu label', () => {
  test('a new intent with a slot found in the text: stored, with a warning that the intent is new', () => {
    const r = cli('label', 'a1', '--intent', 'iot_garage_open', '--slot', 'device_type=Garage', '--by', 'anna', '--db', db);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /labelled #1 \(id a1\) "could you open the garage": intent iot_garage_open, slots device_type=Garage/);
    assert.match(r.stderr, /warning: intent iot_garage_open is new/);
    const g = gold('a1');
    assert.equal(g.gold_intent, 'iot_garage_open');
    assert.equal(g.gold_by, 'anna');
    // Located in the text: offsets and the text as written.
    assert.deepEqual(JSON.parse(g.gold_slots!), [{ type: 'device_type', value: 'Garage', raw: 'garage', start: 19, end: 25 }]);
    // Once labelled, the household's intent is known: no warning the second time.
    const again = cli('label', 'a1', '--intent', 'iot_garage_open', '--db', db);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /is new/);
  });

  test('relabelling keeps the previous label in the history (who, when, what)', () => {
    const r = cli('label', 'a2', '--intent', 'iot_hue_lightoff', '--sentiment', 'neutral', '--by', 'anna', '--db', db);
    assert.equal(r.status, 0, r.stderr);
    const r2 = cli('label', 'a2', '--intent', 'iot_hue_lightdim', '--by', 'ben', '--json', '--db', db);
    assert.equal(r2.status, 0, r2.stderr);
    const out = JSON.parse(r2.stdout);
    assert.equal(out.previous.intent, 'iot_hue_lightoff');
    assert.equal(out.previous.by, 'anna');
    // A field left out keeps its value.
    assert.equal(gold('a2').gold_sentiment, 'neutral');
    const cleared = cli('label', 'a2', '--clear-sentiment', '--by', 'ben', '--db', db);
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.equal(gold('a2').gold_sentiment, null);

    const h = cli('label', '--history', 'a2', '--json', '--db', db);
    assert.equal(h.status, 0, h.stderr);
    const hist = JSON.parse(h.stdout);
    assert.equal(hist.live.intent, 'iot_hue_lightoff');
    assert.deepEqual(
      hist.history.map((v: { intent: string; sentiment: string | null; by: string; replacedBy?: string }) => [v.intent, v.sentiment, v.by, v.replacedBy ?? null]),
      [
        ['iot_hue_lightoff', 'neutral', 'anna', 'ben'],
        ['iot_hue_lightdim', 'neutral', 'ben', 'ben'],
        ['iot_hue_lightdim', null, 'ben', null],
      ],
    );
    const text = cli('label', '--history', 'a2', '--db', db);
    assert.match(text.stdout, /3\. intent iot_hue_lightdim, slots none, sentiment - by ben at .* \(current\)/);
  });

  test('what cannot be stored is refused with the reason, and nothing changes', () => {
    const notInText = cli('label', 'a2', '--slot', 'house_place=bedroom', '--db', db);
    assert.equal(notInText.status, 2);
    assert.match(notInText.stderr, /house_place="bedroom": the value is not in the text "turn off the kitchen lights"/);
    const badSentiment = cli('label', 'a2', '--sentiment', 'angry', '--db', db);
    assert.equal(badSentiment.status, 2);
    assert.match(badSentiment.stderr, /expected one of negative, neutral, positive/);
    const badName = cli('label', 'a2', '--intent', 'open the garage', '--db', db);
    assert.equal(badName.status, 2);
    const badSlot = cli('label', 'a2', '--slot', 'kitchen', '--db', db);
    assert.equal(badSlot.status, 2);
    assert.match(badSlot.stderr, /expected type=value/);
    assert.equal(cli('label', 'a2', '--db', db).status, 2);
    assert.equal(cli('label', 'a2', '--intent', 'x', '--clear-intent', '--db', db).status, 2);
    const missing = cli('label', 'nope', '--intent', 'x', '--db', db);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /no logged input with id "nope"/);
    const pending = cli('label', 'p1', '--intent', 'alarm_set', '--db', db);
    assert.equal(pending.status, 3);
    assert.match(pending.stderr, /not been answered yet/);
    const ambiguous = cli('label', 'dup', '--intent', 'datetime_query', '--db', db);
    assert.equal(ambiguous.status, 2);
    assert.match(ambiguous.stderr, /2 inputs have id "dup" \(#4, #3\); name one by its sequence number/);
    assert.equal(gold('a2').gold_slots, null);
    // By sequence number instead.
    const bySeq = cli('label', '#3', '--intent', 'datetime_query', '--db', db);
    assert.equal(bySeq.status, 0, bySeq.stderr);
    assert.equal(withDb((c) => c.prepare('SELECT gold_intent FROM inputs WHERE seq = 3').pluck().get()), 'datetime_query');
  });

  test('a database file nobody may write (immutable): the error names the file, and nothing changes', (t) => {
    const ro = join(dir, 'immutable.db');
    seedDatabase(ro, [{ id: 'r1', receivedAt: now, site: 'hall', status: 'done', text: 'open the garage', intent: 'unknown', confidence: 0.2 }]);
    // chattr +i: read-only even for root (chmod would not stop root). SQLite opens such a file read-only without a word.
    const chattr = spawnSync('chattr', ['+i', ro], { encoding: 'utf8' });
    if (chattr.status !== 0) {
      t.skip(`chattr +i not possible here: ${chattr.stderr || chattr.error?.message}`);
      return;
    }
    try {
      const r = cli('label', 'r1', '--intent', 'iot_garage_open', '--db', ro);
      assert.equal(r.status, 1, r.stderr);
      assert.ok(r.stderr.startsWith(`hubnlu: ${ro}: database error while storing a label (SQLITE_READONLY`), r.stderr);
      assert.match(r.stderr, /check that the file and its directory belong to the user/);
      writeFileSync(join(dir, 'ro.jsonl'), '{"id": "r1", "intent": "iot_garage_open"}\n');
      const imp = cli('label', '--import', join(dir, 'ro.jsonl'), '--db', ro);
      assert.equal(imp.status, 1, imp.stderr);
      assert.ok(imp.stderr.startsWith(`hubnlu: ${ro}: database error`), imp.stderr);
    } finally {
      spawnSync('chattr', ['-i', ro]);
    }
    const c = new Database(ro, { readonly: true });
    assert.equal(c.prepare(`SELECT gold_intent FROM inputs WHERE id = 'r1'`).pluck().get(), null);
    c.close();
  });

  test('another process holding the write lock past the busy timeout: the error names the file and what to look for', async () => {
    const busy = join(dir, 'busy.db');
    seedDatabase(busy, [{ id: 'b1', receivedAt: now, site: 'hall', status: 'done', text: 'open the garage', intent: 'unknown', confidence: 0.2 }]);
    const held = await holdWriteLock(busy);
    try {
      const r = cli('label', 'b1', '--intent', 'iot_garage_open', '--db', busy); // a separate process holds the lock: a blocking spawn is fine
      assert.equal(r.status, 1, r.stderr);
      assert.ok(r.stderr.startsWith(`hubnlu: ${busy}: another process has held the database's write lock for over 10 s (SQLITE_BUSY), so the label being stored was not`), r.stderr);
      assert.match(r.stderr, /try again/);
    } finally {
      await held.release();
    }
    const c = new Database(busy, { readonly: true });
    assert.equal(c.prepare(`SELECT gold_intent FROM inputs WHERE id = 'b1'`).pluck().get(), null);
    c.close();
  });

  test('--history prints what a label holds without terminal escapes (a `by` or intent stored by an older bridge, which checked neither)', () => {
    const path = join(dir, 'escapes.db');
    seedDatabase(path, [{ id: 'esc', receivedAt: now - 1000, site: 'hall', status: 'done', text: 'turn off the lights', intent: 'iot_hue_lightoff', confidence: 0.9, gold: { intent: 'x\u001b[2Jy', by: 'mallory\u001b]52;c;cHduZWQ=\u0007' } }]);
    const r = cli('label', '--history', 'esc', '--db', path);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    assert.match(r.stdout, /intent x·\[2Jy, .* by mallory·\]52;c;cHduZWQ=·/);
  });

  test('--history on a database from before label_history (schema 3, not yet migrated): the live answer and the current label', () => {
    const old = join(dir, 'schema3.db');
    const raw = new Database(old);
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) raw.exec(m.sql);
    raw.pragma('user_version = 3');
    raw.prepare(
      `INSERT INTO inputs (id, id_source, delivery_key, received_at, completed_at, topic, site_id, text, tasks, result_topic, status, intent, confidence, gold_intent, gold_by, gold_at)
       VALUES ('o1', 'payload', 'k1', ?, ?, 'hubnlu/hall/utterance', 'hall', 'open the garage', '["intent"]', 'hubnlu/hall/result', 'done', 'unknown', 0.2, 'iot_garage_open', 'anna', ?)`,
    ).run(now, now, now);
    raw.close();
    const r = cli('label', '--history', 'o1', '--db', old);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1\. intent iot_garage_open, slots none, sentiment - by anna .*\(current\)/);
    const c = new Database(old, { readonly: true });
    assert.equal(c.pragma('user_version', { simple: true }), 3, 'a read does not migrate');
    c.close();
  });

  test('#<seq> typed unquoted in a shell (a comment there): the error says to quote it', () => {
    // What a user types, through a real shell: everything from the # on is a comment, so hubnlu sees `label` alone.
    const sh = spawnSync('sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} label #3 --intent datetime_query --db ${JSON.stringify(db)}`], { cwd: dir, encoding: 'utf8' });
    assert.equal(sh.status, 2, sh.stderr);
    assert.match(sh.stderr, /name the input to label .*quote it in a shell \('#3'\): an unquoted # starts a comment/);
    const history = cli('label', '--history', '--db', db);
    assert.equal(history.status, 2);
    assert.match(history.stderr, /--history: name the input .*quote it in a shell/);
  });
});

describe('hubnlu label --import', () => {
  test('a bad row anywhere: nothing is imported, the error names file:line', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, [JSON.stringify({ id: 'a1', intent: 'iot_wemo_on' }), '', JSON.stringify({ id: 'a2', slots: [{ type: 'house_place', value: 'attic' }] })].join('\n'));
    const before = gold('a1').gold_intent;
    const r = cli('label', '--import', file, '--db', db);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.jsonl:3: slot house_place="attic": the value is not in the text/);
    assert.match(r.stderr, /nothing was imported/);
    assert.equal(gold('a1').gold_intent, before);

    writeFileSync(file, `${JSON.stringify({ id: 'a1', intent: 'x' })}\n{"id": "a2", "intent": \n`);
    const syntax = cli('label', '--import', file, '--db', db);
    assert.equal(syntax.status, 2);
    assert.match(syntax.stderr, /bad\.jsonl:2: not valid JSON/);
    writeFileSync(file, `${JSON.stringify({ intent: 'x' })}\n`);
    assert.match(cli('label', '--import', file, '--db', db).stderr, /bad\.jsonl:1: missing "id"/);
    writeFileSync(file, `${JSON.stringify({ id: 'nope', intent: 'x' })}\n`);
    assert.match(cli('label', '--import', file, '--db', db).stderr, /bad\.jsonl:1: no logged input with id "nope"/);
    assert.match(cli('label', '--import', join(dir), '--db', db).stderr, /a directory, not a data file/);
  });

  test('an exported file imported back keeps each slot where it was (the second of two equal words), not the first occurrence', () => {
    const path = join(dir, 'roundtrip.db');
    const text = 'turn off the kitchen light and the kitchen fan';
    seedDatabase(path, [
      { id: 'fan', receivedAt: now - 1000, site: 'hall', status: 'done', text, intent: 'unknown', confidence: 0.3, gold: { intent: 'iot_wemo_off', slots: [{ type: 'house_place', value: 'kitchen', raw: 'kitchen', start: 35, end: 42 }] } },
    ]);
    const file = join(dir, 'roundtrip.jsonl');
    const ex = cli('export', '--labelled-only', '--out', file, '--db', path);
    assert.equal(ex.status, 0, ex.stderr);
    const r = cli('label', '--import', file, '--by', 'roundtrip', '--db', path);
    assert.equal(r.status, 0, r.stderr);
    const slots = () => {
      const c = new Database(path, { readonly: true });
      try {
        return JSON.parse(c.prepare(`SELECT gold_slots FROM inputs WHERE id = 'fan'`).pluck().get() as string) as Array<{ start: number; end: number }>;
      } finally {
        c.close();
      }
    };
    assert.deepEqual(slots().map((x) => [x.start, x.end]), [[35, 42]]);
    // Offsets that no longer span the value (edited by hand) are not trusted: the value is located, as before.
    writeFileSync(file, `${JSON.stringify({ id: 'fan', slots: [{ type: 'device_type', value: 'fan', start: 0, end: 3 }] })}\n`);
    assert.equal(cli('label', '--import', file, '--db', path).status, 0);
    assert.deepEqual(slots().map((x) => [x.start, x.end]), [[43, 46]]);
  });

  test('all rows stored in one go, with a summary', () => {
    const file = join(dir, 'good.jsonl');
    writeFileSync(
      file,
      [
        { id: 'a1', intent: 'iot_garage_open', slots: [{ type: 'device_type', value: 'garage' }], sentiment: 'neutral', text: 'ignored' },
        { id: '#4', intent: 'datetime_query' },
        { id: 'a2', slots: null },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    const r = cli('label', '--import', file, '--by', 'import-test', '--json', '--db', db);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.rows, 3);
    assert.equal(s.inputs, 3);
    assert.equal(s.intents, 2);
    assert.equal(s.sentiments, 1);
    assert.equal(s.slots, 1);
    assert.equal(gold('a1').gold_sentiment, 'neutral');
    assert.equal(gold('a1').gold_by, 'import-test');
    assert.equal(withDb((c) => c.prepare('SELECT gold_intent FROM inputs WHERE seq = 4').pluck().get()), 'datetime_query');
    const text = cli('label', '--import', file, '--db', db);
    assert.match(text.stdout, /imported 3 labels from .*good\.jsonl for 3 inputs: 2 intent, 1 with slots, 1 sentiment; 3 replaced an earlier label/);
  });
});

test('labels while the agent runs and answers: every input answered, every label stored', { timeout: 120_000 }, async () => {
  const live = join(dir, 'live', 'hubnlu.db');
  const agent = startAgentProcess({ HUBNLU_STORAGE_PATH: live, HUBNLU_MQTT_EMBEDDED_PORT: '0', HUBNLU_LOG_LEVEL: 'info' });
  const ready = await agent.ready;
  const recorder = await Recorder.connect(String(ready.broker), ['hubnlu/+/result']);
  try {
    await Promise.all(Array.from({ length: 20 }, (_, i) => recorder.publish('hubnlu/den/utterance', JSON.stringify({ id: `first-${i}`, text: `turn on the den lights ${i}` }))));
    assert.ok(await waitFor(() => recorder.messages.length >= 20, 20_000), 'first results');
    // The agent holds <db>.lock; label next to it while more inputs arrive.
    let publishing = true;
    let sent = 0;
    const load = (async () => {
      while (publishing) {
        await recorder.publish('hubnlu/den/utterance', JSON.stringify({ id: `load-${sent}`, text: 'dim the lights in the den' }));
        sent++;
      }
    })();
    for (let i = 0; i < 5; i++) {
      const r = runCli(['label', `first-${i}`, '--intent', 'iot_hue_lighton', '--slot', 'house_place=den', '--by', 'live-test', '--db', live], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
    }
    const file = join(dir, 'live.jsonl');
    writeFileSync(file, Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `first-${i + 5}`, intent: 'iot_hue_lighton', sentiment: 'neutral' })).join('\n'));
    const imp = runCli(['label', '--import', file, '--db', live], { cwd: dir });
    assert.equal(imp.status, 0, imp.stderr);
    publishing = false;
    await load;
    assert.ok(await waitFor(() => recorder.messages.length >= 20 + sent, 20_000), `results ${recorder.messages.length} of ${20 + sent}`);
    const c = new Database(live, { readonly: true });
    const counts = c.prepare(`SELECT status, count(*) AS n FROM inputs GROUP BY status`).all() as Array<{ status: string; n: number }>;
    const labelled = c.prepare(`SELECT count(*) FROM inputs WHERE gold_intent = 'iot_hue_lighton'`).pluck().get();
    c.close();
    assert.deepEqual(counts, [{ status: 'done', n: 20 + sent }]);
    assert.equal(labelled, 15);
    const loud = agent.logs.filter((l) => l.level === 'error' || l.level === 'fatal');
    assert.deepEqual(loud, [], 'no errors from the agent');
  } finally {
    await recorder.close().catch(() => undefined);
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
});
