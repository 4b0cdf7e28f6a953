/**
 * The WAL checkpoint thread (issue 10, see checkpointer.ts): its own connection to the agent's database, which it
 * checkpoints PASSIVE (never waiting for, nor blocking, the agent's writes) whenever another connection has committed
 * since the last look (`PRAGMA data_version`). Polls every `minIntervalMs` while writes come, backing off to
 * `maxIntervalMs` when idle.
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

function checkpoint(mode: 'PASSIVE' | 'RESTART'): { busy: number; log: number; checkpointed: number } {
  const row = (db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>)[0];
  return row ?? { busy: 0, log: 0, checkpointed: 0 };
}

function tick(): void {
  timer = undefined;
  if (stopped) return;
  try {
    const version = db.pragma('data_version', { simple: true }) as number;
    if (version !== lastVersion) {
      lastVersion = version;
      interval = data.minIntervalMs;
      const t0 = performance.now();
      let r = checkpoint('PASSIVE');
      let restarted = false;
      // The agent's writes never paused while the WAL was fully copied, so no writer could start it over: it grows.
      // A RESTART checkpoint holds new writes for the copy of what is left (little: PASSIVE just ran) and the sync.
      if (r.log >= data.restartFrames && r.busy === 0) {
        // A second PASSIVE first copies what came during the first, so the RESTART (busy_timeout 0: it gives up at once
        // if the agent is writing) finds almost nothing left to copy and sync while it holds writes back.
        checkpoint('PASSIVE');
        r = checkpoint('RESTART');
        restarted = r.busy === 0;
      }
      post({ type: 'checkpoint', log: r.log, checkpointed: r.checkpointed, busy: r.busy === 1, restarted, ms: performance.now() - t0 });
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

parentPort!.on('message', (m: 'stop') => {
  if (m !== 'stop') return;
  stopped = true;
  if (timer) clearTimeout(timer);
  db.close();
  parentPort!.close();
});
post({ type: 'ready' });
timer = setTimeout(tick, interval);
