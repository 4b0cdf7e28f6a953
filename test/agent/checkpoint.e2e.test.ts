/**
 * WAL checkpoints off the event loop (issue 10), in a real agent: idle, it holds no checkpoint thread and SQLite's own
 * checkpoint (1,000 pages); a flood of inputs starts the thread, its connection then checkpoints only as a backstop
 * (`wal_autocheckpoint = 4096`) and the thread copies the WAL back while inputs flow; after stop the database is whole
 * and the WAL gone (the agent's close is the last one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';
import { openDatabase } from '../../src/store/database.js';

test('the agent checkpoints from its thread, not inside its commits, and loses nothing', async () => {
  const running = await startAgent();
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result']);
  try {
    assert.equal(running.agent.walCheckpoints().autocheckpoint, 1000, 'idle: no thread, SQLite\'s own checkpoint');
    assert.equal(running.agent.walCheckpoints().thread?.running, false, 'idle: no thread');
    const n = 400;
    await Promise.all(Array.from({ length: n }, (_, i) => recorder.publish(`hubnlu/room${i % 4}/utterance`, JSON.stringify({ id: `c${i}`, text: 'turn off the kitchen lights' }))));
    assert.ok(await waitFor(() => recorder.json((t) => t.endsWith('/result')).length >= n, 60_000), 'every input answered');
    assert.ok(await waitFor(() => (running.agent.walCheckpoints().thread?.checkpoints ?? 0) > 0 && running.agent.walCheckpoints().thread!.lastCheckpointed > 0, 10_000), 'the thread checkpointed');
    assert.equal(running.agent.walCheckpoints().thread?.starts, 1, 'the flood started the thread once');
    assert.equal(running.agent.walCheckpoints().autocheckpoint, 4096, "with the thread the agent's connection checkpoints only as a backstop");
  } finally {
    await recorder.close();
    await running.stop();
  }
  assert.equal(existsSync(`${running.dbPath}-wal`), false, 'the WAL was checkpointed and removed at close');
  const db = openDatabase(running.dbPath, { readonly: true });
  assert.equal((db.prepare("SELECT count(*) AS n FROM inputs WHERE status = 'done'").get() as { n: number }).n, 400);
  db.close();
});

test('storage.checkpointThread false: no thread, SQLite checkpoints inside the commits as before', async () => {
  const running = await startAgent({ 'storage.checkpointThread': false });
  try {
    assert.deepEqual(running.agent.walCheckpoints(), { autocheckpoint: 1000, thread: undefined });
  } finally {
    await running.stop();
  }
});
