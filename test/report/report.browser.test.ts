/**
 * `hubnlu report` opened in headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser download): no console errors, no requests
 * beyond the file itself, and every number read from the rendered page equals
 * what `hubnlu eval --json` prints for the same rows and model (both run as
 * real CLI processes). Once on a dataset file, once on the log's labelled
 * inputs (a real agent, labels through the bridge `label` request).
 *
 * Set HUBNLU_REPORT_SCREENSHOT=DIR to keep a full-page screenshot of each page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { startAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';
import { openDatabase } from '../../src/store/database.js';
import { labelledRowsFromLog } from '../../src/data/log-rows.js';
import { envNameFor } from '../../src/config/schema.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium)`;
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'report-intent.jsonl');

interface Shown {
  metric: string;
  text: string;
  label?: string;
  gold?: string;
  predicted?: string;
  figure?: string;
}

interface PageRead {
  shown: Shown[];
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  scripts: number;
  consoleErrors: string[];
  failedRequests: string[];
  otherRequests: string[];
}

async function readPage(file: string, screenshotName: string): Promise<PageRead> {
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    const failedRequests: string[] = [];
    const otherRequests: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('requestfailed', (r) => failedRequests.push(r.url()));
    page.on('request', (r) => {
      if (r.url() !== url) otherRequests.push(r.url());
    });
    const response = await page.goto(url, { waitUntil: 'load' });
    assert.ok(response === null || response.ok());
    const shown = await page.$$eval('[data-metric]', (els) =>
      els.map((e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }) as unknown as Shown),
    );
    const data = JSON.parse((await page.textContent('#report-data')) ?? 'null');
    const scripts = await page.evaluate(() => document.scripts.length);
    const dir = process.env.HUBNLU_REPORT_SCREENSHOT;
    if (dir) await page.screenshot({ path: join(dir, `${screenshotName}.png`), fullPage: true });
    return { shown, data, scripts, consoleErrors, failedRequests, otherRequests };
  } finally {
    await browser.close();
  }
}

/** A number as shown ("87.50 %", "0.8731", "12") and how far the rounding may have moved it. */
function parseShown(text: string): { value: number; tolerance: number } {
  const t = text.trim();
  const percent = t.endsWith('%');
  const num = t.replace(/\s*%$/, '');
  assert.match(num, /^-?\d+(\.\d+)?$/, `not a number: ${JSON.stringify(text)}`);
  const decimals = num.includes('.') ? num.split('.')[1].length : 0;
  const scale = percent ? 100 : 1;
  return { value: Number(num) / scale, tolerance: (0.5 * 10 ** -decimals) / scale + 1e-12 };
}

function assertShown(r: PageRead, expected: number, metric: string, attrs: Partial<Shown> = {}): void {
  const found = r.shown.filter((s) => s.metric === metric && Object.entries(attrs).every(([k, v]) => (s as unknown as Record<string, unknown>)[k] === v));
  assert.ok(found.length > 0, `no ${metric} ${JSON.stringify(attrs)} on the page`);
  for (const s of found) {
    const { value, tolerance } = parseShown(s.text);
    assert.ok(Math.abs(value - expected) <= tolerance, `${metric} ${JSON.stringify(attrs)}: page shows ${s.text}, eval --json says ${expected}`);
  }
}

/** Every figure on the page against `hubnlu eval --json` for the same rows. */
function assertMatchesEval(r: PageRead, ev: any): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(r.consoleErrors, [], 'console errors');
  assert.deepEqual(r.failedRequests, [], 'failed requests');
  assert.deepEqual(r.otherRequests, [], 'the page fetched something');
  assert.equal(r.scripts, 1, 'the only script element is the JSON data block');

  assertShown(r, ev.n, 'n');
  for (const m of ['accuracy', 'macro_f1', 'macro_recall', 'ece', 'slot_f1', 'rejected', 'accepted_accuracy']) assertShown(r, ev[m], m);
  assert.equal(r.shown.filter((s) => s.metric === 'ece').length, 2, 'ECE in the summary and by the reliability diagram');
  assert.ok(ev.per_label.length > 5);
  for (const s of ev.per_label) {
    for (const m of ['precision', 'recall', 'f1', 'support']) assertShown(r, s[m], m, { label: s.label });
  }
  assert.equal(r.shown.filter((s) => s.metric === 'precision').length, ev.per_label.length);

  // Confusion matrix: each gold row sums to the label's support, the diagonal is recall × support, and every
  // pair eval lists as confused is a cell with that count (and a row of the top-confusions table).
  const cells = r.shown.filter((s) => s.metric === 'confusion');
  const cell = (gold: string, predicted: string) => {
    const c = cells.find((x) => x.gold === gold && x.predicted === predicted);
    return c ? Number(c.text) : 0;
  };
  for (const s of ev.per_label) {
    const row = cells.filter((c) => c.gold === s.label).reduce((a, c) => a + Number(c.text), 0);
    assert.equal(row, s.support, `confusion row ${s.label}`);
    assert.equal(cell(s.label, s.label), Math.round(s.recall * s.support), `confusion diagonal ${s.label}`);
  }
  assert.equal(cells.reduce((a, c) => a + Number(c.text), 0), ev.n);
  assert.ok(ev.confused.length > 0, 'the fixture has confusions');
  for (const c of ev.confused) {
    assert.equal(cell(c.gold, c.predicted), c.count, `confusion ${c.gold} → ${c.predicted}`);
    assertShown(r, c.count, 'confused_count', { gold: c.gold, predicted: c.predicted });
  }

  // The embedded data is the same evaluation.
  for (const k of ['n', 'accuracy', 'macro_f1', 'macro_recall', 'ece', 'slot_f1', 'rejected', 'accepted_accuracy', 'threshold']) assert.equal(r.data.eval[k], ev[k], `embedded ${k}`);
  assert.deepEqual(r.data.eval.per_label, ev.per_label);
  assert.deepEqual(r.data.eval.confused, ev.confused);
  assert.deepEqual(r.data.eval.model, ev.model);
  assert.equal(r.data.reliability.bins.reduce((a: number, b: { count: number }) => a + b.count, 0), ev.n);
}

test('report on a dataset file: opens cleanly in Chromium and its numbers are eval --json', { skip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-report-'));
  const ev = runCli(['eval', '--task', 'intent', '--data', FIXTURE, '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  const out = join(dir, 'file.html');
  const rep = runCli(['report', '--out', out, '--task', 'intent', '--data', FIXTURE, '--db', join(dir, 'none.db')]);
  assert.equal(rep.status, 0, rep.stderr);
  const html = readFileSync(out, 'utf8');
  // Offline: nothing external referenced at all.
  assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//i);
  // The utterance with markup stays text: no element from it, no early end of the data block.
  assert.doesNotMatch(html, /<script>alert/);
  const page = await readPage(out, 'report-file');
  assertMatchesEval(page, JSON.parse(ev.stdout));
  assert.equal(page.data.source.kind, 'file');
  assert.equal(page.data.latency.source, 'evaluation');
  assert.equal(page.data.volume, null);
});

test('report --from-log: labelled inputs of a real agent, numbers equal eval --json on the same rows', { skip, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-report-log-'));
  const rows = readFileSync(FIXTURE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; intent: string });
  const running = await startAgent({ 'extensions.bridge.allow': ['label'] });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error', 'hubnlu/bridge/response/#']);
  try {
    // Every fixture utterance, plus a few unlabelled inputs and one rejected input for the volume chart.
    await Promise.all(rows.map((r, i) => recorder.publish(`hubnlu/site${i % 3}/utterance`, JSON.stringify({ id: `rep-${i}`, text: r.text }))));
    await Promise.all([0, 1, 2].map((i) => recorder.publish('hubnlu/hall/utterance', JSON.stringify({ id: `unl-${i}`, text: 'good morning' }))));
    await recorder.publish('hubnlu/hall/utterance', Buffer.from([0xff, 0xfe]));
    assert.ok(await waitFor(() => recorder.messages.filter((m) => m.topic.endsWith('/result')).length >= rows.length + 3, 30_000));
    for (const [i, r] of rows.entries()) await recorder.publish('hubnlu/bridge/request/label', JSON.stringify({ id: `rep-${i}`, intent: r.intent, by: 'test' }));
    assert.ok(await waitFor(() => recorder.messages.filter((m) => m.topic === 'hubnlu/bridge/response/label').length === rows.length, 30_000));
    const responses = recorder.messages.filter((m) => m.topic === 'hubnlu/bridge/response/label').map((m) => JSON.parse(m.payload.toString()));
    assert.ok(responses.every((b) => !b.error), JSON.stringify(responses.find((b) => b.error)));
  } finally {
    await recorder.close();
    await running.stop();
  }

  // The same rows as a dataset file, for `hubnlu eval --data`.
  const db = openDatabase(running.dbPath, { readonly: true });
  const logged = labelledRowsFromLog(db, 'intent');
  db.close();
  assert.equal(logged.rows.length, rows.length);
  const file = join(dir, 'from-log.jsonl');
  writeFileSync(file, logged.rows.map((r) => JSON.stringify({ text: r.text, intent: r.label })).join('\n') + '\n');
  const ev = runCli(['eval', '--task', 'intent', '--data', file, '--json']);
  assert.equal(ev.status, 0, ev.stderr);

  const out = join(dir, 'log.html');
  // The configured models (no --model), all rows as English as `hubnlu eval --data` analyses them.
  const rep = runCli(['report', '--out', out, '--from-log', '--since', '1h', '--db', running.dbPath], { env: { [envNameFor('models.detectLanguage')]: 'false' } });
  assert.equal(rep.status, 0, rep.stderr);
  const page = await readPage(out, 'report-log');
  assertMatchesEval(page, JSON.parse(ev.stdout));
  assert.equal(page.data.source.kind, 'log');
  assert.equal(page.data.latency.source, 'log');
  // Latency and volume cover every input in the window, labelled or not: 48 + 3 answered, 1 rejected.
  assert.equal(page.data.latency.endToEnd.n, rows.length + 3);
  const volume = page.data.volume.points.reduce((a: { done: number; rejected: number }, p: { counts: { done: number; rejected: number } }) => ({ done: a.done + p.counts.done, rejected: a.rejected + p.counts.rejected }), { done: 0, rejected: 0 });
  assert.deepEqual(volume, { done: rows.length + 3, rejected: 1 });
  assertShown(page, rows.length + 4, 'volume_total');
});

test('report: usage errors name the fix; an empty log exits 3', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-report-err-'));
  const both = runCli(['report', '--out', join(dir, 'x.html'), '--data', FIXTURE, '--from-log']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--data and --from-log: choose one/);
  const task = runCli(['report', '--out', join(dir, 'x.html'), '--task', 'slots']);
  assert.equal(task.status, 2);
  const missing = runCli(['report', '--out', join(dir, 'x.html'), '--db', join(dir, 'none.db')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no database there/);
  const emptyDb = join(dir, 'empty.db');
  openDatabase(emptyDb).close();
  const empty = runCli(['report', '--out', join(dir, 'x.html'), '--db', emptyDb]);
  assert.equal(empty.status, 3, empty.stderr);
  assert.match(empty.stderr, /no labelled intent inputs; label some/);
  assert.equal(existsSync(join(dir, 'x.html')), false);
  // --out is checked before any work: a directory, or a directory that does not exist, named; no temporary file left.
  const intoDir = runCli(['report', '--out', dir, '--data', FIXTURE]);
  assert.equal(intoDir.status, 2, intoDir.stderr);
  assert.ok(intoDir.stderr.includes(`--out ${dir}: a directory; give a file name, e.g. ${join(dir, 'report.html')}`), intoDir.stderr);
  const noDir = runCli(['report', '--out', join(dir, 'nope', 'x.html'), '--data', FIXTURE]);
  assert.equal(noDir.status, 1, noDir.stderr);
  assert.ok(noDir.stderr.includes(`cannot write ${join(dir, 'nope', 'x.html')}: ENOENT (does its directory exist?)`), noDir.stderr);
  assert.deepEqual(readdirSync(dirname(dir)).filter((f) => f.startsWith(`${basename(dir)}.tmp`)), []);
  assert.doesNotMatch(intoDir.stderr + noDir.stderr, /EISDIR|\.tmp-/);
  const ontoDb = runCli(['report', '--out', emptyDb, '--data', FIXTURE]);
  assert.equal(ontoDb.status, 2, ontoDb.stderr);
  assert.match(ontoDb.stderr, /an SQLite database \(the log\?\); not overwritten/);
  assert.equal(readFileSync(emptyDb).subarray(0, 15).toString(), 'SQLite format 3');
});
