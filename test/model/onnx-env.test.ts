/**
 * onnxruntime 1.30's telemetry client left an empty `mat-debug-<pid>.log` in
 * $TMPDIR for every process that loaded a model (issue 7, defect 13b).
 * src/model/onnx-env.ts turns telemetry off before onnxruntime loads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

let tmp: string;
before(() => (tmp = mkdtempSync(join(tmpdir(), 'hubnlu-ort-tmp-'))));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('hubnlu classify leaves no mat-debug-<pid>.log behind', () => {
  const r = runCli(['classify', 'turn on the kitchen light', '--compact'], { env: { TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { intent: { name: string } }).intent.name.length > 0, true);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('mat-debug-')), []);
});

test('an explicit ORT_DISABLE_TELEMETRY in the environment is left alone (and shows the file is onnxruntime\'s)', () => {
  const r = runCli(['classify', 'turn on the kitchen light', '--compact'], { env: { TMPDIR: tmp, ORT_DISABLE_TELEMETRY: '0' } });
  assert.equal(r.status, 0, r.stderr);
  const left = readdirSync(tmp).filter((f) => f.startsWith('mat-debug-'));
  assert.equal(left.length, 1, `expected onnxruntime's debug file with telemetry on, found ${left.join(', ')}`);
});
