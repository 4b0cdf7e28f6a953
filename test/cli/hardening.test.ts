/**
 * Command-line hardening (issue 7, defect 12), each run as a process:
 * impossible `--since` dates are rejected, `logs --json | head` ends quietly,
 * `eval --data` refuses non-regular files and never echoes a wrong file's
 * content, and `train --out` never overwrites a model directory without
 * `--force` and writes through a temporary directory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { seedDatabase, type SeedRow } from '../store/seed.js';
import { TINY_DEV, tinyRows } from '../train/tiny-data.js';

let dir: string;
let db: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-hardening-'));
  db = join(dir, 'hubnlu.db');
  const now = Date.now();
  // Enough rows that `logs --json` is far larger than a pipe's buffer (64 KiB).
  const rows: SeedRow[] = Array.from({ length: 600 }, (_, i) => ({
    receivedAt: now - i * 1000,
    site: 'kitchen',
    status: 'done',
    intent: 'iot_hue_lightoff',
    confidence: 0.9,
    sentiment: 'neutral',
    latencyMs: 5,
    text: `turn off the kitchen lights number ${i}`,
    intentModel: 'intent@1',
    sentimentModel: 'sentiment@1',
  }));
  seedDatabase(db, rows);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('--since rejects impossible dates', () => {
  for (const [command, value] of [
    ['logs', '2024-02-31'],
    ['stats', '2024-02-31'],
    ['logs', '2023-02-29'],
    ['logs', '2024-13-01'],
    ['stats', '2024-04-31T10:00:00Z'],
    ['logs', '2024-05-01T24:00'],
    ['logs', '2024-05-01T10:61'],
  ] as const) {
    test(`${command} --since ${value}: exit 2 with the reason`, () => {
      const r = runCli([command, '--db', db, '--since', value]);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /not a real date/);
      assert.equal(r.stdout, '');
    });
  }

  test('real dates, leap days included, are still accepted', () => {
    for (const value of ['2024-02-29', '2000-02-29', '2024-01-31T23:59:59Z', '2024-05-01 08:00']) {
      const r = runCli(['stats', '--db', db, '--since', value, '--json']);
      assert.equal(r.status, 0, `${value}: ${r.stderr}`);
    }
  });
});

describe('logs --json | head', () => {
  test('a reader that goes away ends the command quietly with 0', async () => {
    const child = spawn(process.execPath, [CLI, 'logs', '--db', db, '--json', '--limit', '600'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Read the first chunk, then close our end, as `head` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });

  test('through a real shell pipe into head', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" logs --db "${db}" --json --limit 600 | head -n 3`], { encoding: 'utf8' });
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.split('\n').length, 4);
  });
});

describe('a closed or full stderr', () => {
  /** Runs the CLI with stdout discarded and stderr a pipe whose reader has gone, or /dev/full. */
  async function withBrokenStderr(args: string[], how: 'closed' | 'full'): Promise<number | null> {
    const stderr = how === 'full' ? openSync('/dev/full', 'w') : 'pipe';
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', stderr] });
    if (how === 'closed') child.stderr!.destroy();
    else closeSync(stderr as number);
    return await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  }

  for (const how of ['closed', 'full'] as const) {
    test(`${how}: a command that works still exits 0 when its note on stderr cannot be written`, async () => {
      // --limit 1 of 600 rows: the table on stdout, then "(the newest 1; --limit shows more)" on stderr.
      assert.equal(await withBrokenStderr(['logs', '--db', db, '--limit', '1'], how), 0);
    });

    test(`${how}: a command that fails keeps its own exit code (the error is not swallowed)`, async () => {
      assert.equal(await withBrokenStderr(['logs', '--db', join(dir, 'missing.db')], how), 1);
      assert.equal(await withBrokenStderr(['logs', '--db', db, '--since', 'yesterday'], how), 2);
    });
  }
});

describe('eval --data', () => {
  const evalArgs = (data: string): string[] => ['eval', '--task', 'intent', '--data', data, '--json'];

  test('refuses /dev/zero without reading it', () => {
    const r = runCli(evalArgs('/dev/zero'), { timeoutMs: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /\/dev\/zero: a character device, not a data file/);
  });

  test('refuses a directory', () => {
    const r = runCli(evalArgs(dir));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /a directory, not a data file/);
  });

  test('refuses a FIFO without blocking on it', () => {
    const fifo = join(dir, 'rows.fifo');
    const mk = spawnSync('mkfifo', [fifo]);
    assert.equal(mk.status, 0, 'mkfifo failed');
    const r = runCli(evalArgs(fifo), { timeoutMs: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /a FIFO \(named pipe\), not a data file/);
  });

  test('a file that is not JSONL: the line number, never its content', () => {
    const secret = 'root:x:0:0:root:/root:/bin/bash';
    const file = join(dir, 'passwd');
    writeFileSync(file, `${secret}\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n`);
    const r = runCli(evalArgs(file));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /passwd:1: not valid JSON/);
    assert.ok(!(r.stdout + r.stderr).includes('root:/root'), `content echoed: ${r.stderr}`);
    assert.ok(!(r.stdout + r.stderr).includes('daemon'), `content echoed: ${r.stderr}`);
  });

  test('/etc/passwd itself is not echoed', () => {
    if (!existsSync('/etc/passwd')) return;
    const r = runCli(evalArgs('/etc/passwd'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\/etc\/passwd:1: not valid JSON/);
    assert.ok(!r.stderr.includes('root:'), r.stderr);
  });

  test('a line over the line-length bound: refused, naming the line', () => {
    const file = join(dir, 'long.jsonl');
    const ok = JSON.stringify({ text: 'turn on the light', intent: 'iot_hue_lighton' });
    writeFileSync(file, `${ok}\n${ok}\n${JSON.stringify({ text: 'a'.repeat(100_000), intent: 'x' })}\n`);
    const r = runCli(evalArgs(file));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /long\.jsonl:3: line longer than 65536 bytes/);
    assert.ok(!r.stderr.includes('aaaa'), 'content echoed');
  });
});

describe('train --out', () => {
  let data: string;
  before(() => {
    data = join(dir, 'train.jsonl');
    writeFileSync(data, [...tinyRows(), ...TINY_DEV].map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots })).join('\n') + '\n');
  });
  const train = (out: string, ...extra: string[]) =>
    runCli(['train', '--task', 'intent', '--data', data, '--out', out, '--no-slots', '--epochs', '2', '--no-progress', '--json', ...extra], { timeoutMs: 120_000 });

  test('a new directory is written whole; an existing one needs --force', () => {
    const out = join(dir, 'models', 'mine');
    const first = train(out);
    assert.equal(first.status, 0, first.stderr);
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    assert.equal((JSON.parse(manifest) as { name: string }).name, 'mine');
    // No temporary directory left next to it.
    assert.deepEqual(readdirSync(join(dir, 'models')), ['mine']);

    writeFileSync(join(out, 'marker'), 'old');
    const again = train(out);
    assert.equal(again.status, 2, again.stderr);
    assert.match(again.stderr, /already exists; pass --force/);
    assert.equal(readFileSync(join(out, 'marker'), 'utf8'), 'old', 'the existing directory was touched');
    assert.deepEqual(readdirSync(join(dir, 'models')), ['mine']);

    const forced = train(out, '--force', '--seed', '2');
    assert.equal(forced.status, 0, forced.stderr);
    assert.ok(!existsSync(join(out, 'marker')), 'the old directory was not replaced');
    assert.ok(existsSync(join(out, 'manifest.json')));
    assert.deepEqual(readdirSync(join(dir, 'models')), ['mine']);
  });

  test('--force does not replace a directory that is not a model directory', () => {
    const out = join(dir, 'not-a-model');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    const r = train(out, '--force');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /not a model directory/);
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'keep me');
  });

  test('a failed run leaves neither a half-written directory nor a temporary one', () => {
    const out = join(dir, 'failed', 'model');
    const r = runCli(['train', '--task', 'intent', '--data', `${data},/dev/zero`, '--out', out, '--no-progress']);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(join(dir, 'failed')), []);
  });
});
