/** `hubnlu run` as a process: start-up line, SIGTERM drains and exits 0 within 5 s. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startAgentProcess } from '../helpers/cli.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';

test('SIGTERM: in-flight inputs finished and logged, database closed, exit 0 within 5 s', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-run-'));
  const db = join(dir, 'data', 'hubnlu.db');
  const agent = startAgentProcess({ HUBNLU_STORAGE_PATH: db, HUBNLU_MQTT_EMBEDDED_PORT: '0', HUBNLU_LOG_LEVEL: 'info' });
  const ready = await agent.ready;
  const url = String(ready.broker);
  assert.match(url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  assert.match(String(ready.msg), /models: intent=.*sentiment=/);

  const recorder = await Recorder.connect(url, ['hubnlu/+/result']);
  const n = 300;
  await Promise.all(Array.from({ length: n }, (_, i) => recorder.publish('hubnlu/den/utterance', JSON.stringify({ id: `t${i}`, text: 'dim the lights in the den' }))));
  assert.ok(await waitFor(() => recorder.messages.length > 0, 10_000), 'no result before SIGTERM');

  const sentAt = Date.now();
  agent.child.kill('SIGTERM');
  const exit = await agent.exited;
  const took = Date.now() - sentAt;
  await recorder.close().catch(() => undefined);
  assert.equal(exit.code, 0, `exit ${exit.code} / ${exit.signal}`);
  assert.ok(took < 5000, `stopped in ${took} ms`);

  // Closed cleanly: SQLite checkpoints and removes the WAL on the last close.
  assert.equal(existsSync(`${db}-wal`), false, 'WAL file left behind: database not closed');
  assert.equal(statSync(db).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700);
  const conn = new Database(db, { readonly: true });
  const rows = conn.prepare('SELECT status, count(*) AS n FROM inputs GROUP BY status').all() as Array<{ status: string; n: number }>;
  conn.close();
  const pending = rows.find((r) => r.status === 'pending')?.n ?? 0;
  const done = rows.find((r) => r.status === 'done')?.n ?? 0;
  assert.equal(pending, 0, 'inputs left unanswered after a clean stop');
  assert.ok(done >= recorder.messages.length, `rows ${done} < results ${recorder.messages.length}`);
  const stopped = agent.logs.find((l) => l.msg === 'stopped');
  assert.ok(stopped, 'no "stopped" log line');
  assert.equal(stopped.processed, done);
});

test('an unusable config exits 2 before starting anything', { timeout: 30_000 }, async () => {
  const agent = startAgentProcess({ HUBNLU_MQTT_URL: 'ftp://nope', HUBNLU_INPUT_MAX_IN_FLIGHT: 'lots' });
  const exit = await agent.exited;
  assert.equal(exit.code, 2);
  assert.equal(agent.logs.length, 0, 'nothing may be logged (nothing started)');
});
