/**
 * The WAL checkpoint thread at a steady 1,000 commits a second (issue 10): how long the agent's commits take, with
 * the WAL started over in pauses of the commits (store/checkpointer.ts, "Starting the WAL over") and without them
 * (`restartFrames: 0`: the connection's own backstop checkpoint at 4,096 frames, inside a commit, on the event loop).
 *
 * No broker, no models: LogStore and WalCheckpointer on a real SQLite file, one input + result + result message a
 * commit as the agent writes them at batches of one, acknowledgements marked every 20 ms, and each commit asks
 * `beforeCommit()` first, as the inference worker does. Modes alternate round by round.
 *
 *   npm run build && node dist/bench/wal-restart.js [--seconds 8] [--rounds 2] [--rate 1000]
 *
 * Take the bench lock (`flock /tmp/hubnlu-bench.lock`); writes bench/results/wal-restart.json.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { LogStore, type Completion, type OutboxRow } from '../src/store/log-store.js';
import { WalCheckpointer } from '../src/store/checkpointer.js';
import { createLogger } from '../src/util/logger.js';
import { percentile } from '../src/eval/metrics.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = arg('seconds', 8);
const ROUNDS = arg('rounds', 2);
const RATE = arg('rate', 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** About the size of a real result: the shipped models' JSON for a short command. */
const PAYLOAD = JSON.stringify({
  id: '00000000-0000-4000-8000-000000000000',
  siteId: 'kitchen',
  input: 'turn on the lights in the kitchen please',
  intent: { intentName: 'iot_hue_lighton', confidenceScore: 0.93 },
  slots: [{ entity: 'house_place', value: 'kitchen', raw: 'kitchen', start: 25, end: 32, confidence: 0.9 }],
  alternatives: [{ name: 'iot_hue_lighton', confidence: 0.93 }, { name: 'iot_hue_lightoff', confidence: 0.03 }],
  sentiment: { label: 'neutral', score: 0.8, scores: { negative: 0.1, neutral: 0.8, positive: 0.1 } },
  models: { intent: 'hubnlu-intent-en@1.0.0', sentiment: 'hubnlu-sentiment-en@1.0.0' },
});

let n = 0;
function completion(): Completion {
  n++;
  const now = Date.now();
  return {
    seq: 0,
    input: {
      row: { id: `req-${n}`, idSource: 'payload', deliveryKey: `key-${n}`, receivedAt: now, topic: 'hubnlu/kitchen/utterance', siteId: 'kitchen', text: 'turn on the lights in the kitchen please', tasks: ['intent', 'sentiment'], resultTopic: 'hubnlu/kitchen/result', request: {} },
      redelivered: false,
    },
    status: 'done',
    completedAt: now,
    intent: 'iot_hue_lighton',
    confidence: 0.93,
    alternatives: [{ name: 'iot_hue_lighton', confidence: 0.93 }],
    slots: [{ type: 'house_place', value: 'kitchen', raw: 'kitchen', start: 25, end: 32, confidence: 0.9 }],
    sentiment: 'neutral',
    sentimentScore: 0.8,
    sentimentScores: { negative: 0.1, neutral: 0.8, positive: 0.1 },
    intentModel: 'hubnlu-intent-en@1.0.0',
    sentimentModel: 'hubnlu-sentiment-en@1.0.0',
    latencyMs: 0.7,
    inferenceMs: 0.2,
    messages: [{ topic: 'hubnlu/kitchen/result', payload: PAYLOAD }],
  };
}

interface RoundResult {
  readonly mode: 'pauses' | 'backstop';
  readonly commits: number;
  readonly commitMs: { p50: number; p99: number; max: number };
  readonly commitsOver1Ms: number;
  readonly commitsOver4Ms: number;
  /** Time commits waited for a pause to end, ms (the event loop ran meanwhile). */
  readonly waitMs: { count: number; mean: number; max: number };
  readonly pauses: number;
  readonly caughtUp: number;
  readonly pauseTimeouts: number;
  /** The longest WAL the thread saw, in frames, and how often it saw the WAL started over. */
  readonly walFramesMax: number;
  readonly walStarts: number;
  readonly walFileMb: number;
}

async function round(mode: 'pauses' | 'backstop', dir: string): Promise<RoundResult> {
  const path = join(dir, `${mode}-${n}.db`);
  const db = openDatabase(path, { synchronous: 'normal' });
  const store = new LogStore(db);
  const checkpointer = new WalCheckpointer(db, path, createLogger({ level: 'silent' }), mode === 'backstop' ? { restartFrames: 0 } : {});
  await checkpointer.start();
  const commitMs: number[] = [];
  const waits: number[] = [];
  let acked: number[] = [];
  let lastMark = performance.now();
  // The WAL's length as the thread last saw it: its largest, and how often it fell (the WAL had started over).
  let walFramesMax = 0;
  let walStarts = 0;
  let lastLog = 0;
  const total = SECONDS * RATE;
  const t0 = performance.now();
  for (let i = 0; i < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * RATE) / 1000) + 1);
    for (; i < due; i++) {
      const pause = checkpointer.beforeCommit();
      if (pause) {
        const w = performance.now();
        await pause;
        waits.push(performance.now() - w);
      }
      const queued: OutboxRow[] = [];
      const s = performance.now();
      store.completeMany([completion()], queued);
      commitMs.push(performance.now() - s);
      acked.push(...queued.map((q) => q.seq));
      const log = checkpointer.stats.lastLog;
      if (log < lastLog) walStarts++;
      lastLog = log;
      walFramesMax = Math.max(walFramesMax, log);
    }
    if (performance.now() - lastMark > 20 && !checkpointer.pausing) {
      store.markPublished(acked, Date.now());
      acked = [];
      lastMark = performance.now();
    }
    await sleep(1);
  }
  const stats = { ...checkpointer.stats };
  await checkpointer.stop();
  const walFileMb = statSync(`${path}-wal`).size / 1e6;
  db.close();
  return {
    mode,
    commits: commitMs.length,
    commitMs: { p50: percentile(commitMs, 50), p99: percentile(commitMs, 99), max: Math.max(...commitMs) },
    commitsOver1Ms: commitMs.filter((x) => x > 1).length,
    commitsOver4Ms: commitMs.filter((x) => x > 4).length,
    waitMs: { count: waits.length, mean: waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : 0, max: waits.length ? Math.max(...waits) : 0 },
    pauses: stats.pauses,
    caughtUp: stats.caughtUp,
    pauseTimeouts: stats.pauseTimeouts,
    walFramesMax,
    walStarts,
    walFileMb,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'hubnlu-wal-restart-'));
const load0 = loadavg()[0];
const rounds: RoundResult[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) for (const mode of ['backstop', 'pauses'] as const) rounds.push(await round(mode, dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const f = (x: number) => x.toFixed(2);
console.log(`${SECONDS} s at ${RATE} commits/s a round, ${ROUNDS} rounds a mode, interleaved; load ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
console.table(
  rounds.map((r) => ({
    mode: r.mode,
    'commit p50 / p99 / max ms': `${f(r.commitMs.p50)} / ${f(r.commitMs.p99)} / ${f(r.commitMs.max)}`,
    'commits > 1 / > 4 ms': `${r.commitsOver1Ms} / ${r.commitsOver4Ms}`,
    'waited for a pause: n, mean / max ms': `${r.waitMs.count}, ${f(r.waitMs.mean)} / ${f(r.waitMs.max)}`,
    'pauses (caught up, timed out)': `${r.pauses} (${r.caughtUp}, ${r.pauseTimeouts})`,
    'WAL starts, longest (frames)': `${r.walStarts}, ${r.walFramesMax}`,
    'WAL file MB': f(r.walFileMb),
  })),
);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/wal-restart.json', JSON.stringify({ measuredAt: new Date().toISOString(), seconds: SECONDS, rate: RATE, loadAverageAtStart: load0, rounds }, null, 2) + '\n');
