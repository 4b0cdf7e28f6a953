/**
 * The WAL checkpoint thread (issue 10, see checkpointer.ts): its own connection to the agent's database, which it
 * checkpoints PASSIVE (never waiting for, nor blocking, the agent's writes) whenever another connection has committed
 * since the last look (`PRAGMA data_version`). Polls every `minIntervalMs` while writes come, backing off to
 * `maxIntervalMs` when idle, and ends itself after `idleExitMs` without a commit (the agent starts it again on demand). It never takes the write lock (no RESTART or TRUNCATE here): a RESTART holds the agent's
 * writes back for its copy and sync, and the agent's busy handler sleeps on the event loop meanwhile.
 *
 * Once the WAL holds `restartFrames`, it asks the agent for a pause in its commits (`wal-long`); when the agent says
 * `go` it checkpoints once more, with nothing being appended, so that the whole WAL is copied and the agent's next
 * commit starts it over (see checkpointer.ts, "Starting the WAL over"). It reports how that went (`restart`) and,
 * if the WAL could not all be copied (a reader holds an old snapshot), waits `restartRetryMs` before asking again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openCheckpointConnection } from './database.js';
import type { CheckpointThreadData, FromCheckpointThread } from './checkpointer.js';

const data = workerData as CheckpointThreadData;
const post = (m: FromCheckpointThread) => parentPort!.postMessage(m);
const db = openCheckpointConnection(data.path);
let lastVersion = -1;
let interval = data.minIntervalMs;
let timer: NodeJS.Timeout | undefined;
let stopped = false;
let lastChange = performance.now();
/** A pause was asked for and the agent has not answered yet. */
let asked = false;
/** No pause is asked for before this time (after an attempt that could not copy the whole WAL). */
let askAgainAt = 0;

function checkpoint(): { busy: number; log: number; checkpointed: number } {
  const row = (db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0];
  return row ?? { busy: 0, log: 0, checkpointed: 0 };
}

function tick(): void {
  timer = undefined;
  if (stopped) return;
  try {
    const version = db.pragma('data_version', { simple: true }) as number;
    if (version !== lastVersion) {
      lastVersion = version;
      lastChange = performance.now();
      const t0 = performance.now();
      const r = checkpoint();
      // Near the agent's backstop, keep up with the WAL's tail: the backstop's checkpoint on the event loop then has little to copy.
      interval = r.log >= data.chaseFrames ? data.chaseIntervalMs : data.minIntervalMs;
      post({ type: 'checkpoint', log: r.log, checkpointed: r.checkpointed, busy: r.busy === 1, ms: performance.now() - t0 });
      if (data.restartFrames > 0 && r.log >= data.restartFrames && !asked && performance.now() >= askAgainAt) {
        asked = true;
        post({ type: 'wal-long', log: r.log });
      }
    } else if (data.idleExitMs > 0 && performance.now() - lastChange >= data.idleExitMs) {
      post({ type: 'idle' });
      end();
      return;
    } else {
      interval = Math.min(interval * 2, data.maxIntervalMs);
    }
  } catch (err) {
    // SQLITE_BUSY (another process holds the database), SQLITE_FULL: the next tick tries again; the agent's own writes tell it what is wrong.
    post({ type: 'error', message: (err as Error).message, code: (err as { code?: string }).code });
    interval = data.maxIntervalMs;
  }
  timer = setTimeout(tick, interval);
}

function end(): void {
  if (stopped) return;
  stopped = true;
  if (timer) clearTimeout(timer);
  db.close();
  parentPort!.close();
}

/** The agent holds its commits back: copy the rest of the WAL now, so that its next commit starts the WAL over. */
function restart(): void {
  asked = false;
  if (stopped) return;
  const t0 = performance.now();
  try {
    const r = checkpoint();
    const complete = r.busy === 0 && r.log >= 0 && r.checkpointed === r.log;
    if (!complete) askAgainAt = performance.now() + data.restartRetryMs;
    post({ type: 'restart', log: r.log, checkpointed: r.checkpointed, complete, ms: performance.now() - t0 });
  } catch (err) {
    askAgainAt = performance.now() + data.restartRetryMs;
    post({ type: 'restart', log: -1, checkpointed: -1, complete: false, ms: performance.now() - t0 });
    post({ type: 'error', message: (err as Error).message, code: (err as { code?: string }).code });
  }
}

parentPort!.on('message', (m: 'stop' | 'go' | 'skip') => {
  if (m === 'stop') end();
  else if (m === 'go') restart();
  else if (m === 'skip') {
    // Not now (the agent is stopping, or backing off after a pause that ran out): ask again later, not at every look.
    asked = false;
    askAgainAt = performance.now() + data.restartRetryMs;
  }
});
post({ type: 'ready' });
timer = setTimeout(tick, interval);
