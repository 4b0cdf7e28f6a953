/**
 * Fault 0, short: the chaos soak (bench/chaos.ts) for about 20 s: a real mosquitto, a real agent process SIGKILLed
 * every 1–6 s at seeded random moments (some during start-up) and restarted, a broker stopped with SIGTERM and
 * restarted, a publisher at a steady 300 QoS 1 inputs/s, then every message counted. The long runs (minutes, full
 * synchronous, broker SIGKILL) are the bench: `npm run bench:chaos -- --minutes 3` (README "Delivery").
 *
 * What must hold is what the bench checks and exits 1 on: every acknowledged input exactly one row, every row answered
 * and its result marked published and received, no agent exit but ours, nothing left at the broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { mosquittoPath } from '../helpers/mosquitto.js';

test('chaos, short: seeded agent SIGKILLs and a broker restart at a steady rate; nothing lost, nothing doubled', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-chaos-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'chaos.json');
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'chaos.js'), '--minutes', '0.35', '--seed', '7', '--rate', '300', '--out', out], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 110_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  t.diagnostic(output.split('\n').filter((l) => !l.startsWith('[chaos')).join(' | '));
  assert.equal(code, 0, `chaos bench failed:\n${output}`);

  const r = JSON.parse(readFileSync(out, 'utf8')) as Record<string, number> & { passed: boolean };
  assert.equal(r.passed, true);
  assert.ok(r.agentKills >= 2, `only ${r.agentKills} agent kills`);
  assert.ok(r.brokerAcked > 1000, `only ${r.brokerAcked} inputs acknowledged`);
  assert.equal(r.distinctRowIds, r.brokerAcked + r.unacknowledgedButStored, 'rows = acknowledged inputs (+ unacknowledged but stored)');
  assert.equal(r.rows, r.distinctRowIds, 'one row per id');
  assert.equal(r.distinctResults, r.distinctRowIds, 'one result per row at least');
  assert.equal(r.missingRows, 0);
  assert.equal(r.outboxUnpublished, 0);
  assert.equal(r.unexpectedExits, 0);
});
