/** `hubnlu eval --lang`: the model configured (or shipped) for a language, as a process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { runCli } from '../helpers/cli.js';

test('eval --lang de-DE scores the German intent model on the German hand-written set', { timeout: 120_000 }, () => {
  const r = runCli(['eval', '--task', 'intent', '--lang', 'de-DE', '--data', join(packageRoot(), 'eval', 'handwritten', 'de.jsonl'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.model.name, 'hubnlu-intent-de');
  assert.ok(report.n > 40);
  assert.ok(report.accuracy > 0.5, `accuracy ${report.accuracy}`);
});

test('eval --lang for a language without that model exits 2 naming the setting', { timeout: 60_000 }, () => {
  const r = runCli(['eval', '--task', 'sentiment', '--lang', 'xx', '--data', join(packageRoot(), 'eval', 'handwritten', 'de.jsonl')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no sentiment model for language xx.*models\.languages\.xx\.sentiment/);
  const bad = runCli(['eval', '--task', 'intent', '--lang', '12', '--data', 'x.jsonl']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--lang/);
});
