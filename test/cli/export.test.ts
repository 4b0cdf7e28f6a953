/** `hubnlu export` as a process on a real database: the dataset format, the filters, CSV quoting, the round trip to `label --import`. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRows } from '../../src/data/rows.js';
import { csvField } from '../../src/data/log-export.js';
import { runCli } from '../helpers/cli.js';
import { seedDatabase } from '../store/seed.js';

let dir: string;
let db: string;
const now = Date.now();
const TRICKY = 'say "hello, world"\nthen =SUM(A1) twice';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-export-'));
  db = join(dir, 'hubnlu.db');
  seedDatabase(db, [
    { id: 'old', receivedAt: now - 40 * 86_400_000, site: 'hall', status: 'done', text: 'turn on the lights', intent: 'iot_hue_lighton', confidence: 0.9, sentiment: 'neutral', gold: { intent: 'iot_hue_lighton' } },
    { id: 'lab', receivedAt: now - 3000, site: 'hall', status: 'done', text: 'open the garage door', intent: 'unknown', confidence: 0.3, sentiment: 'neutral', intentModel: 'hubnlu-intent@1', gold: { intent: 'iot_garage_open', slots: [{ type: 'device_type', value: 'garage door' }], by: 'anna' } },
    { id: 'sent', receivedAt: now - 2000, site: 'hall', status: 'done', text: 'this is awful', intent: 'general_quirky', confidence: 0.6, sentiment: 'neutral', gold: { sentiment: 'negative' } },
    { id: 'raw', receivedAt: now - 1500, site: 'den', status: 'done', text: TRICKY, intent: 'general_quirky', confidence: 0.4, sentiment: 'positive', slots: [{ type: 'person', value: 'world', raw: 'world', start: 12, end: 17, confidence: 0.5 }] },
    { id: 'rej', receivedAt: now - 1000, site: 'den', status: 'rejected', code: 'invalid_json' },
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir });
const jsonl = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('jsonl: gold labels where labelled, the live answer only with --predicted, ids kept; --task and --since filter', () => {
  const all = cli('export', '--db', db);
  assert.equal(all.status, 0, all.stderr);
  const rows = jsonl(all.stdout);
  assert.deepEqual(rows.map((r) => r.id), ['old', 'lab', 'sent', 'raw']); // answered inputs with text, oldest first
  const lab = rows[1];
  assert.equal(lab.intent, 'iot_garage_open');
  assert.deepEqual(lab.slots, [{ type: 'device_type', value: 'garage door', start: 9, end: 20 }]);
  assert.equal(lab.label_source, 'gold');
  assert.equal(lab.labelled_by, 'anna');
  assert.deepEqual(lab.live, { intent: 'unknown', confidence: 0.3, sentiment: 'neutral', model: 'hubnlu-intent@1' });
  assert.equal(rows[3].intent, undefined); // unlabelled, no --predicted: text only
  assert.equal(rows[3].label_source, null);
  assert.match(all.stderr, /exported 4 inputs \(3 labelled\)/);

  const predicted = jsonl(cli('export', '--predicted', '--task', 'intent', '--db', db).stdout);
  const raw = predicted.find((r) => r.id === 'raw');
  assert.equal(raw.intent, 'general_quirky');
  assert.equal(raw.label_source, 'predicted');
  assert.deepEqual(raw.slots, [{ type: 'person', value: 'world', start: 12, end: 17 }]);
  assert.equal(raw.sentiment, undefined);

  const sentiment = jsonl(cli('export', '--labelled-only', '--task', 'sentiment', '--db', db).stdout);
  assert.deepEqual(sentiment.map((r) => [r.id, r.sentiment, r.intent]), [['sent', 'negative', undefined]]);
  const recent = jsonl(cli('export', '--labelled-only', '--since', '30d', '--task', 'intent', '--db', db).stdout);
  assert.deepEqual(recent.map((r) => r.id), ['lab']);
  assert.equal(cli('export', '--labelled-only', '--predicted', '--db', db).status, 2);
  assert.equal(cli('export', '--format', 'xml', '--db', db).status, 2);
  const nothing = cli('export', '--labelled-only', '--since', '2099-01-01', '--db', db);
  assert.equal(nothing.status, 3);
  assert.equal(nothing.stdout, '');
});

test('--out: a file train/eval --data read, written whole (no temporary file left)', () => {
  const out = join(dir, 'out', 'intent.jsonl');
  rmSync(join(dir, 'out'), { recursive: true, force: true });
  const missingDir = cli('export', '--out', out, '--db', db);
  assert.notEqual(missingDir.status, 0);
  assert.match(missingDir.stderr, /cannot write .*intent\.jsonl/);
  const ok = cli('export', '--labelled-only', '--task', 'intent', '--out', join(dir, 'intent.jsonl'), '--db', db);
  assert.equal(ok.status, 0, ok.stderr);
  const ds = readRows(join(dir, 'intent.jsonl'), 'intent');
  assert.deepEqual(ds.rows.map((r) => [r.text, r.label, r.source]), [
    ['turn on the lights', 'iot_hue_lighton', 'log#1'],
    ['open the garage door', 'iot_garage_open', 'log#2'],
  ]);
  assert.deepEqual(ds.rows[1].slots, [{ type: 'device_type', value: 'garage door', start: 9, end: 20 }]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  assert.equal(existsSync(out), false);
});

test('--out: nothing matched leaves an existing file as it was; a directory is refused by name', () => {
  const out = join(dir, 'labels.jsonl');
  writeFileSync(out, '{"text":"kept","intent":"x"}\n');
  const nothing = cli('export', '--labelled-only', '--since', '2099-01-01', '--out', out, '--db', db);
  assert.equal(nothing.status, 3, nothing.stderr);
  assert.match(nothing.stderr, /exported 0 inputs/);
  assert.match(nothing.stderr, /labels\.jsonl left as it was/);
  assert.equal(readFileSync(out, 'utf8'), '{"text":"kept","intent":"x"}\n', 'the earlier export is not replaced by an empty file');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

  // --out naming the database itself (or any SQLite file): refused, the log intact.
  const ontoDb = cli('export', '--out', db, '--db', db);
  assert.equal(ontoDb.status, 2, ontoDb.stderr);
  assert.ok(ontoDb.stderr.includes(`--out ${db}: an SQLite database (the log?); not overwritten: give another file name`), ontoDb.stderr);
  assert.equal(cli('logs', '--db', db).status, 0, 'the database still reads');

  // --out a FIFO, a device or a symlink to one (/dev/stdout): refused, not renamed over (as root that replaced the node).
  const fifo = join(dir, 'out.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const link = join(dir, 'stdout-link');
  symlinkSync(fifo, link);
  for (const target of [fifo, link]) {
    const r = cli('export', '--out', target, '--db', db);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stderr.includes(`--out ${target}: not a regular file (a FIFO); it would be replaced: give a file name, or leave --out out to write to stdout`), r.stderr);
    assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
  }

  const intoDir = cli('export', '--out', dir, '--db', db);
  assert.equal(intoDir.status, 2, intoDir.stderr);
  assert.ok(intoDir.stderr.includes(`--out ${dir}: a directory; give a file name, e.g. ${join(dir, 'export.jsonl')}`), intoDir.stderr);
  assert.doesNotMatch(intoDir.stderr, /EISDIR|\.tmp/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

/** A small RFC 4180 reader, to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

test('csv: a header, one record per input, commas, quotes and line breaks quoted', () => {
  const r = cli('export', '--format', 'csv', '--predicted', '--db', db);
  assert.equal(r.status, 0, r.stderr);
  const rows = parseCsv(r.stdout);
  assert.deepEqual(rows[0], ['seq', 'id', 'received_at', 'site_id', 'lang', 'text', 'intent', 'slots', 'sentiment', 'label_source', 'live_intent', 'live_confidence', 'live_sentiment', 'model']);
  assert.equal(rows.length, 5);
  assert.ok(rows.every((x) => x.length === rows[0].length));
  const raw = rows.find((x) => x[1] === 'raw')!;
  assert.equal(raw[5], TRICKY);
  assert.equal(raw[6], 'general_quirky');
  assert.deepEqual(JSON.parse(raw[7]), [{ type: 'person', value: 'world', start: 12, end: 17 }]);
  const lab = rows.find((x) => x[1] === 'lab')!;
  assert.equal(lab[9], 'gold');
  assert.equal(lab[10], 'unknown');
  assert.equal(lab[11], '0.3');
});

test('csvField: RFC 4180 quoting, formulas defused', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' padded'), '" padded"');
  assert.equal(csvField('=1+1'), "'=1+1");
  assert.equal(csvField('@cmd'), "'@cmd");
  assert.equal(csvField(-3), '-3');
  assert.equal(csvField(null), '');
});

test('an exported file, corrected by hand, imports back with label --import', () => {
  const file = join(dir, 'fix.jsonl');
  const ex = cli('export', '--labelled-only', '--task', 'intent', '--since', '30d', '--out', file, '--db', db);
  assert.equal(ex.status, 0, ex.stderr);
  writeFileSync(file, readFileSync(file, 'utf8').replace('"intent":"iot_garage_open"', '"intent":"iot_door_open"'));
  const imp = cli('label', '--import', file, '--by', 'fixer', '--json', '--db', db);
  assert.equal(imp.status, 0, imp.stderr);
  assert.equal(JSON.parse(imp.stdout).rows, 1);
  const again = jsonl(cli('export', '--labelled-only', '--task', 'intent', '--since', '30d', '--db', db).stdout);
  assert.equal(again[0].intent, 'iot_door_open');
  assert.deepEqual(again[0].slots, [{ type: 'device_type', value: 'garage door', start: 9, end: 20 }]);
  assert.equal(again[0].labelled_by, 'fixer');
});

test('an export of inputs that share an id (ids may repeat) imports back: the seq of a row names the input, its id is checked', () => {
  const dupDb = join(dir, 'dup.db');
  seedDatabase(dupDb, [
    { id: 'req-1', receivedAt: now - 3000, site: 'hall', status: 'done', text: 'what time is it', intent: 'datetime_query', confidence: 0.9, gold: { intent: 'datetime_query' } },
    { id: 'req-1', receivedAt: now - 2000, site: 'den', status: 'done', text: 'open the garage', intent: 'unknown', confidence: 0.2, gold: { intent: 'iot_garage_open' } },
  ]);
  const file = join(dir, 'dup.jsonl');
  assert.equal(cli('export', '--labelled-only', '--task', 'intent', '--out', file, '--db', dupDb).status, 0);
  writeFileSync(file, readFileSync(file, 'utf8').replace('"intent":"iot_garage_open"', '"intent":"iot_door_open"'));
  const imp = cli('label', '--import', file, '--db', dupDb);
  assert.equal(imp.status, 0, imp.stderr);
  assert.deepEqual(jsonl(cli('export', '--labelled-only', '--task', 'intent', '--db', dupDb).stdout).map((r) => [r.seq, r.intent]), [
    [1, 'datetime_query'],
    [2, 'iot_door_open'],
  ]);
  // The same file against another database, whose #2 is another input: refused by line, nothing imported.
  const other = cli('label', '--import', file, '--db', db);
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /dup\.jsonl:1: #1 has id "old", not "req-1" \(is this file from another database\?\); nothing was imported/);
  // A hand-written line with an id alone keeps the id rule: ambiguous, named with the candidates.
  writeFileSync(file, '{"id": "req-1", "intent": "datetime_query"}\n');
  const amb = cli('label', '--import', file, '--db', dupDb);
  assert.equal(amb.status, 2);
  assert.match(amb.stderr, /2 inputs have id "req-1" \(#2, #1\)/);
});
