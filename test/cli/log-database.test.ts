/** What every log command shares (src/cli/log-database.ts), run as processes: `--since all` means no time limit in each command that has `--since`. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { runCli } from '../helpers/cli.js';
import { seedDatabase } from '../store/seed.js';

const DAY = 86_400_000;
let dir: string;
let db: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-since-'));
  db = join(dir, 'hubnlu.db');
  const now = Date.now();
  // Labelled inputs from a year and a minute ago, an unlabelled one from 300 days ago: only a window with no start has all.
  seedDatabase(db, [
    { receivedAt: now - 365 * DAY, site: 'hall', status: 'done', text: 'turn off the lights in the kitchen', intent: 'iot_hue_lightoff', confidence: 0.4, intentModel: 'hubnlu-intent@1', gold: { intent: 'iot_hue_lightoff' } },
    { receivedAt: now - 60_000, site: 'hall', status: 'done', text: 'play some jazz music', intent: 'play_music', confidence: 0.4, intentModel: 'hubnlu-intent@1', gold: { intent: 'play_music' } },
    // Unlabelled and unsure: what review lists.
    { receivedAt: now - 300 * DAY, site: 'hall', status: 'done', text: 'could you open the garage', intent: 'iot_door_open', confidence: 0.3, intentModel: 'hubnlu-intent@1' },
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000 });
const EN = join(packageRoot(), 'models', 'intent');

test('--since all: no time limit in logs, export, review, eval --from-log, report and stats', { timeout: 300_000 }, () => {
  const logs = cli('logs', '--db', db, '--since', 'all', '--json');
  assert.equal(logs.status, 0, logs.stderr);
  assert.equal((JSON.parse(logs.stdout) as unknown[]).length, 3);

  const exported = cli('export', '--db', db, '--since', 'ALL');
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(exported.stdout.trim().split('\n').length, 3);

  const review = cli('review', '--db', db, '--since', 'all', '--json');
  assert.equal(review.status, 0, review.stderr);
  assert.equal((JSON.parse(review.stdout) as unknown[]).length, 1);

  const evaluated = cli('eval', '--from-log', '--since', 'all', '--model', EN, '--json', '--db', db);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout) as { n: number; log: { since?: unknown } };
  assert.equal(report.n, 2);
  assert.equal(report.log.since ?? null, null);

  const html = join(dir, 'report.html');
  const page = cli('report', '--out', html, '--from-log', '--since', 'all', '--model', EN, '--db', db);
  assert.equal(page.status, 0, page.stderr);
  assert.match(page.stderr, /\(2 rows,/);
  assert.ok(readFileSync(html, 'utf8').length > 0);

  const stats = cli('stats', '--db', db, '--since', 'all', '--json');
  assert.equal(stats.status, 0, stats.stderr);
  assert.equal((JSON.parse(stats.stdout) as { since: unknown; inputs: number }).since, null);

  // Anything else is still a usage error, and the message now offers "all".
  const bad = cli('logs', '--db', db, '--since', 'forever');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /or "all" for no time limit/);
});
