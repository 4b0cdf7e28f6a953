/**
 * `hubnlu review`: the queue as JSON and text, and the interactive mode for
 * real: in a pseudo-terminal (tmux, keys typed into it) and from a pipe.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI, REPO_ROOT, runCli } from '../helpers/cli.js';
import { seedDatabase, type SeedRow } from '../store/seed.js';
import { sleep } from '../helpers/net.js';

let dir: string;
const t0 = Date.now() - 3_600_000;
const S = 1000;

/** Four queued inputs in a known order (scores 6.0, 4.1, 3.2, 1.2) and one confident one. */
function seed(path: string): void {
  const rows: SeedRow[] = [
    { id: 'q-unknown', receivedAt: t0, site: 'hall', status: 'done', text: 'could you open the garage', intent: 'unknown', confidence: 0.2, alternatives: [{ name: 'iot_wemo_on', confidence: 0.2 }, { name: 'iot_hue_lighton', confidence: 0.1 }, { name: 'alarm_set', confidence: 0.05 }], slots: [] },
    { id: 'q-close', receivedAt: t0 + 100 * S, site: 'hall', status: 'done', text: 'put on some music', intent: 'play_music', confidence: 0.42, alternatives: [{ name: 'play_music', confidence: 0.42 }, { name: 'play_radio', confidence: 0.4 }, { name: 'music_query', confidence: 0.1 }], slots: [] },
    { id: 'q-unknown2', receivedAt: t0 + 200 * S, site: 'den', status: 'done', text: 'shut the garage', intent: 'unknown', confidence: 0.55, alternatives: [{ name: 'iot_wemo_off', confidence: 0.55 }, { name: 'iot_hue_lightoff', confidence: 0.2 }], slots: [] },
    { id: 'q-low', receivedAt: t0 + 300 * S, site: 'den', status: 'done', text: 'lights in the kitchen off', intent: 'iot_hue_lightoff', confidence: 0.5, alternatives: [{ name: 'iot_hue_lightoff', confidence: 0.5 }, { name: 'iot_hue_lighton', confidence: 0.1 }], slots: [{ type: 'house_place', value: 'kitchen', raw: 'kitchen', start: 14, end: 21, confidence: 0.9 }] },
    { id: 'fine', receivedAt: t0 + 400 * S, site: 'den', status: 'done', text: 'turn on the lights', intent: 'iot_hue_lighton', confidence: 0.97, alternatives: [{ name: 'iot_hue_lighton', confidence: 0.97 }, { name: 'iot_hue_lightoff', confidence: 0.01 }], slots: [] },
  ];
  seedDatabase(path, rows);
}

function golds(path: string): Record<string, { intent: string | null; slots: unknown; by: string | null }> {
  const c = new Database(path, { readonly: true });
  try {
    const rows = c.prepare('SELECT id, gold_intent, gold_slots, gold_by FROM inputs ORDER BY seq').all() as Array<{ id: string; gold_intent: string | null; gold_slots: string | null; gold_by: string | null }>;
    return Object.fromEntries(rows.map((r) => [r.id, { intent: r.gold_intent, slots: r.gold_slots ? JSON.parse(r.gold_slots) : null, by: r.gold_by }]));
  } finally {
    c.close();
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-review-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('review --json: the queue, highest score first, with reasons; text mode says how to label', () => {
  const db = join(dir, 'list.db');
  seed(db);
  const r = runCli(['review', '--json', '--db', db], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const items = JSON.parse(r.stdout) as Array<{ id: string; score: number; reasons: Array<{ code: string }>; receivedAt: string }>;
  assert.deepEqual(items.map((i) => i.id), ['q-unknown', 'q-unknown2', 'q-close', 'q-low']);
  assert.deepEqual(items[2].reasons.map((x) => x.code).sort(), ['close_top2', 'low_confidence']);
  assert.equal(Date.parse(items[0].receivedAt), t0);
  const text = runCli(['review', '--limit', '2', '--db', db], { cwd: dir });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /#1 .* unknown 0\.20 .*"could you open the garage"/);
  assert.match(text.stdout, /id q-unknown2 · score 4\.1 · the live answer was unknown; confidence 0\.55 < 0\.6/);
  assert.doesNotMatch(text.stdout, /q-close/);
  assert.match(text.stdout, /hubnlu review --interactive/);
  assert.equal(runCli(['review', '--margin', '2', '--db', db], { cwd: dir }).status, 2);
});

test('review --interactive from a pipe: accept, alternative, typed label, skip, end of input', () => {
  const db = join(dir, 'pipe.db');
  seed(db);
  const r = spawnSync(process.execPath, [CLI, 'review', '--interactive', '--by', 'pipe-test', '--db', db], {
    cwd: dir,
    input: 'x\n2\na\nt\niot_garage_close\ns\n',
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /4 inputs to review/);
  assert.match(r.stdout, /a = accept live · 1-3 = alternative/); // after the unknown key "x"
  const g = golds(db);
  assert.equal(g['q-unknown'].intent, 'iot_hue_lighton'); // alternative 2
  assert.equal(g['q-unknown2'].intent, 'unknown'); // accepted: out of scope is a label too
  assert.equal(g['q-close'].intent, 'iot_garage_close'); // typed
  assert.match(r.stdout, /warning: intent iot_garage_close is new/);
  assert.equal(g['q-low'].intent, null); // skipped
  assert.equal(g['q-close'].by, 'pipe-test');
  assert.match(r.stdout, /3 labelled, 1 skipped/);
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

test('review --interactive in a terminal (tmux): the keys label, skip and quit', { skip: !hasTmux && 'tmux is not installed', timeout: 90_000 }, async () => {
  const db = join(dir, 'tty.db');
  seed(db);
  const socket = `hubnlu-review-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-t', 'review', '-S', '-200').stdout;
  const waitForScreen = async (re: RegExp, what: string): Promise<string> => {
    for (let i = 0; i < 300; i++) {
      const s = screen();
      if (re.test(s)) return s;
      await sleep(100);
    }
    assert.fail(`terminal never showed ${what}:\n${screen()}`);
  };
  const keys = async (...k: string[]) => {
    tmux('send-keys', '-t', 'review', ...k);
    await sleep(50);
  };
  const command = `cd ${JSON.stringify(REPO_ROOT)} && ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} review --interactive --by tty-test --db ${JSON.stringify(db)}; echo "EXIT:$?"; sleep 60`;
  const started = tmux('new-session', '-d', '-s', 'review', '-x', '160', '-y', '50', command);
  assert.equal(started.status, 0, started.stderr);
  try {
    let s = await waitForScreen(/\[1\/4\][\s\S]*^>\s*$/m, 'the first input');
    assert.match(s, /"could you open the garage"/);
    assert.match(s, /live: {2}unknown \(0\.20\)/);
    assert.match(s, /1\) iot_wemo_on \(0\.20\)\n {2}2\) iot_hue_lighton \(0\.10\)\n {2}3\) alarm_set \(0\.05\)/);
    await keys('t', 'Enter');
    await waitForScreen(/intent:\s*$/m, 'the intent prompt');
    await keys('iot_garage_open', 'Enter');
    s = await waitForScreen(/\[2\/4\]/, 'the second input');
    assert.match(s, /labelled #1 as iot_garage_open/);
    await keys('3', 'Enter');
    await waitForScreen(/there is no alternative 3/, 'that q-unknown2 has two alternatives');
    await keys('2', 'Enter');
    await waitForScreen(/\[3\/4\]/, 'the third input');
    await keys('s', 'Enter');
    s = await waitForScreen(/\[4\/4\]/, 'the fourth input');
    assert.match(s, /slots house_place=kitchen/);
    await keys('a', 'Enter');
    s = await waitForScreen(/EXIT:\d+/, 'the end');
    assert.match(s, /3 labelled, 1 skipped/);
    assert.match(s, /EXIT:0/);
  } finally {
    tmux('kill-server');
  }
  const g = golds(db);
  assert.equal(g['q-unknown'].intent, 'iot_garage_open');
  assert.equal(g['q-unknown2'].intent, 'iot_hue_lightoff');
  assert.equal(g['q-close'].intent, null);
  assert.equal(g['q-low'].intent, 'iot_hue_lightoff');
  // Accepting the live answer accepts its slots.
  assert.deepEqual(g['q-low'].slots, [{ type: 'house_place', value: 'kitchen', raw: 'kitchen', start: 14, end: 21 }]);
  assert.equal(g['q-low'].by, 'tty-test');
});

test('review --interactive: q stops at once, nothing more is labelled', () => {
  const db = join(dir, 'quit.db');
  seed(db);
  const r = spawnSync(process.execPath, [CLI, 'review', '--interactive', '--db', db], { cwd: dir, input: 'a\nq\na\n', encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 labelled, 0 skipped, 2 not shown/);
  const g = golds(db);
  assert.equal(g['q-unknown'].intent, 'unknown');
  assert.equal(Object.values(g).filter((x) => x.intent !== null).length, 1, 'nothing labelled after q');
});
