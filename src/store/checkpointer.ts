/**
 * WAL checkpoints off the event loop (issue 10).
 *
 * SQLite's automatic checkpoint (every 1,000 WAL pages) runs inside the commit that crosses the limit, on the thread
 * that commits: the agent's event loop. It copies the WAL into the database file and syncs both, holding the loop
 * for milliseconds (tens on a slow SD card) every hundred or so inputs: the tail of the publish-to-result latency.
 * So a worker thread with a second connection checkpoints PASSIVE whenever something was committed
 * (checkpoint-thread.ts): a PASSIVE checkpoint neither waits for nor blocks the agent's writes. The WAL starts over
 * at the agent's first write after a checkpoint that copied all of it; under a flood that never comes (the agent
 * always wrote meanwhile), so the agent's own automatic checkpoint stays on as a backstop at `backstopFrames`
 * (4,096 pages, not SQLite's 1,000): by then the thread has copied nearly everything, the agent's checkpoint
 * finishes the rest, and its next write starts the WAL over. That checkpoint runs inside a commit, on the event
 * loop, so from three quarters of the backstop on the thread looks every 5 ms instead of every 100: at 1,000
 * inputs a second the backstop's checkpoint then holds the loop 2-4 ms (its syncs and the restart) instead of
 * 5-10 ms every second or so (issue 10, p99 latency). If the thread fails, the agent's connection gets
 * SQLite's 1,000 back. Maintenance's own checkpoints (store/maintenance.ts) are unchanged.
 *
 * Starting the WAL over. SQLite starts the WAL over at a commit that finds the whole of it copied into the
 * database file. Under steady load that never happens by itself: the agent commits every millisecond or so, and each
 * of the thread's checkpoints (two syncs, some milliseconds) ends with frames behind it that it did not copy. So
 * the backstop's checkpoint came every 4,096 frames, inside a commit, on the event loop: at 1,000 inputs a second
 * a 3-17 ms stall every 350 ms or so (issue 10, `bench/latency-trace`: the slowest 1 % came in bursts at that
 * period), its syncs on a slow SD card longer still. Now, from `restartFrames` on, the thread asks for a pause in the
 * agent's commits; the agent grants it at once (its event loop goes on: inputs are read and analysed, their
 * results wait to be committed, `beforeCommit()`), the thread copies the rest of the WAL with nothing being
 * appended and says so, and the agent's next commit starts the WAL over: no checkpoint, no sync on the event loop.
 * A pause ends when the thread answers or after `maxPauseMs`, whichever is first; after one that ran out, none is
 * granted for a while (1 s, doubling up to 30 s), so storage too slow for the pauses falls back to the backstop. A
 * write that does not wait for the pause (a label, a rejected input) only spoils that attempt; the backstop stays.
 *
 * The thread costs memory (its own V8 isolate, ~8 MB) and is only worth it under load: a household's few inputs a
 * minute reach SQLite's 1,000 pages every few hundred inputs, and one checkpoint's stall then harms no one. So the
 * agent starts it on demand (`noteInput()` for each accepted input: `startAfterInputs` within one second) and the
 * thread ends itself after `idleExitMs` without a commit, giving the connection SQLite's 1,000 back; an idle agent
 * holds no thread.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../util/logger.js';
import type { Db } from './database.js';

export interface CheckpointThreadData {
  readonly path: string;
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  /** From this many WAL frames on, the thread looks every `chaseIntervalMs` instead (see CheckpointerOptions). */
  readonly chaseFrames: number;
  readonly chaseIntervalMs: number;
  /** Ends itself after this long without a commit, ms (0: never). */
  readonly idleExitMs: number;
  /** From this many WAL frames on, the thread asks for a pause in the agent's commits to start the WAL over (0: never). */
  readonly restartFrames: number;
  /** After a pause that could not copy the whole WAL, the thread asks again no sooner than this, ms. */
  readonly restartRetryMs: number;
}

export type FromCheckpointThread =
  | { readonly type: 'ready' }
  | { readonly type: 'idle' }
  | { readonly type: 'checkpoint'; readonly log: number; readonly checkpointed: number; readonly busy: boolean; readonly ms: number }
  | { readonly type: 'wal-long'; readonly log: number }
  | { readonly type: 'restart'; readonly log: number; readonly checkpointed: number; readonly complete: boolean; readonly ms: number }
  | { readonly type: 'error'; readonly message: string; readonly code?: string };

export interface CheckpointerOptions {
  /** How often the thread looks for new commits while they come, ms (default 100). */
  readonly minIntervalMs?: number;
  /** The longest wait between looks when idle, ms (default 2000). */
  readonly maxIntervalMs?: number;
  /** The agent connection's own `wal_autocheckpoint` while the thread runs (default 4,096 pages: about 16 MB of WAL). */
  readonly backstopFrames?: number;
  /**
   * Once the WAL holds this many frames (default: three quarters of `backstopFrames`), the thread looks every
   * `chaseIntervalMs` (default 5) rather than every `minIntervalMs`, so that when the agent's backstop checkpoint
   * comes, little is left for it to copy on the event loop: its sync and the WAL restart, not 100 ms of writes.
   */
  readonly chaseFrames?: number;
  readonly chaseIntervalMs?: number;
  /** `noteInput()` starts the thread after this many inputs within one second (default 50). */
  readonly startAfterInputs?: number;
  /** The thread ends itself after this long without a commit, ms (default 30,000; 0: never). */
  readonly idleExitMs?: number;
  /** From this many WAL frames on, the WAL is started over in a pause of the agent's commits (default half of `backstopFrames`; 0: never). */
  readonly restartFrames?: number;
  /** The longest pause in the agent's commits, ms (default 50): past it they go on whether the thread has answered or not. */
  readonly maxPauseMs?: number;
  /** After an attempt that could not copy the whole WAL, the next comes no sooner than this, ms (default 250). */
  readonly restartRetryMs?: number;
  /**
   * Told of each pause when it ends: when it began (`performance.now()`), and how long the thread's checkpoint in it took
   * (ms; undefined when the time limit, `stop()` or the thread's exit ended it).
   */
  readonly onPauseEnd?: (since: number, checkpointMs: number | undefined) => void;
}

export interface CheckpointerStats {
  /** Whether the thread is running now. */
  running: boolean;
  /** Times the thread was started (on demand, or by `start()`). */
  starts: number;
  /** Checkpoints run by the thread. */
  checkpoints: number;
  /** WAL frames in the database file after the last checkpoint (SQLite's count of frames backfilled so far). */
  lastCheckpointed: number;
  /** Frames in the WAL at the last checkpoint. */
  lastLog: number;
  errors: number;
  /** The longest checkpoint, ms (on the thread: the event loop does not wait for it). */
  longestMs: number;
  /**
   * Pauses in the agent's commits to start the WAL over, and those in which the thread copied the whole WAL (the
   * agent's next commit then starts it over, unless another connection still reads from it or wrote meanwhile).
   */
  pauses: number;
  caughtUp: number;
  /** Pauses that ended at `maxPauseMs`, before the thread answered. */
  pauseTimeouts: number;
  /** The longest pause, ms (results waited for their commit that long, at most). */
  longestPauseMs: number;
}

/** SQLite's default, given back to the agent's connection if the thread fails. */
const DEFAULT_AUTOCHECKPOINT = 1000;
/** 16 MB of WAL with 4 KB pages (10,000 let it reach 40 MB: more disk, and more of the WAL index for readers to search). */
const DEFAULT_BACKSTOP = 4096;
const THREAD_ENTRY = new URL('./checkpoint-thread.js', import.meta.url);

export class WalCheckpointer {
  private worker?: Worker;
  private stopping = false;
  readonly stats: CheckpointerStats = {
    running: false,
    starts: 0,
    checkpoints: 0,
    lastCheckpointed: 0,
    lastLog: 0,
    errors: 0,
    longestMs: 0,
    pauses: 0,
    caughtUp: 0,
    pauseTimeouts: 0,
    longestPauseMs: 0,
  };
  /**
   * After a pause that ran out (`maxPauseMs`: storage whose syncs are slower than that, a thread starved of CPU), no
   * pause is granted before this time; the wait doubles with each such pause in a row, up to 30 s, so slow storage
   * falls back to the backstop instead of holding the commits `maxPauseMs` again and again.
   */
  private grantAfter = 0;
  private timeoutsInARow = 0;
  /** The pause in the agent's commits now under way (see "Starting the WAL over"), or none. */
  private pause?: { readonly done: Promise<void>; readonly end: () => void; readonly timer: NodeJS.Timeout; readonly since: number };
  private listeners: Array<() => void> = [];
  private starting?: Promise<void>;
  /** The thread said it is idle and about to exit: that exit is not a failure. */
  private idleExit = false;
  private windowStart = 0;
  private windowInputs = 0;

  /** Does nothing: `start()` does the work. */
  constructor(
    private readonly db: Db,
    private readonly path: string,
    private readonly log: Logger,
    private readonly opts: CheckpointerOptions = {},
  ) {}

  /**
   * Called for each accepted input: under load (`startAfterInputs` inputs within one second) starts the thread if it
   * is not running. Cheap: a counter and a clock read.
   */
  noteInput(): void {
    if (this.worker || this.starting || this.stopping) return;
    const now = performance.now();
    if (now - this.windowStart > 1000) {
      this.windowStart = now;
      this.windowInputs = 0;
    }
    if (++this.windowInputs < (this.opts.startAfterInputs ?? 50)) return;
    this.windowInputs = 0;
    this.starting = this.start()
      .catch((err: Error) => this.log.warn({ err: err.message }, 'no checkpoint thread; SQLite checkpoints on the main thread'))
      .finally(() => (this.starting = undefined));
  }

  /** Starts the thread and moves the connection's automatic checkpoint to the backstop; resolves when the thread's connection is open. */
  async start(): Promise<void> {
    if (this.worker) return;
    const backstop = this.opts.backstopFrames ?? DEFAULT_BACKSTOP;
    const chaseFrames = this.opts.chaseFrames ?? Math.floor(backstop * 0.75);
    const data: CheckpointThreadData = {
      path: this.path,
      minIntervalMs: this.opts.minIntervalMs ?? 100,
      maxIntervalMs: this.opts.maxIntervalMs ?? 2000,
      chaseFrames,
      chaseIntervalMs: this.opts.chaseIntervalMs ?? 5,
      idleExitMs: this.opts.idleExitMs ?? 30_000,
      // Half the backstop: the thread looks every `minIntervalMs` below `chaseFrames`, and at 1,000 inputs a second
      // 100 ms add about 1,000 frames, so it asks by about three quarters, well before the backstop's checkpoint.
      restartFrames: this.opts.restartFrames ?? Math.floor(backstop / 2),
      restartRetryMs: this.opts.restartRetryMs ?? 250,
    };
    // A small heap: the thread holds one connection and a timer.
    const worker = new Worker(THREAD_ENTRY, { workerData: data, name: 'hubnlu-checkpoint', resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 } });
    // Never what keeps the process alive: the agent's stop() ends it; a failed start must not hang the process.
    worker.unref();
    this.worker = worker;
    let onMessage: (m: FromCheckpointThread) => void = () => undefined;
    let onError: (err: Error) => void = () => undefined;
    let onExit: (code: number) => void = () => undefined;
    await new Promise<void>((resolve, reject) => {
      onMessage = (m) => (m.type === 'ready' ? resolve() : reject(new Error(`unexpected first message ${m.type} from the checkpoint thread`)));
      onError = reject;
      onExit = (code) => reject(new Error(`the checkpoint thread exited (code ${code}) before it was ready`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    }).catch((err: Error) => {
      this.worker = undefined;
      void worker.terminate();
      throw err;
    }).finally(() => {
      // Only these: removeAllListeners() would also drop the worker's own (its messages would stop coming).
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
    worker.on('message', (m: FromCheckpointThread) => this.onMessage(m));
    worker.on('error', (err) => this.log.warn({ err: err.message }, 'checkpoint thread failed'));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.stats.running = false;
      this.endPause();
      if (this.stopping) return;
      if (this.idleExit) {
        // Idle: back to SQLite's own checkpoint until the next burst of writes starts the thread again.
        this.idleExit = false;
        this.restoreAutocheckpoint();
        this.log.debug({ checkpoints: this.stats.checkpoints }, 'checkpoint thread ended: idle');
        return;
      }
      // Without the thread nobody checkpoints: the WAL would grow for ever. Back to SQLite's own, on the event loop.
      this.log.warn({ code }, 'checkpoint thread exited; checkpoints run on the main thread again (wal_autocheckpoint 1000)');
      this.restoreAutocheckpoint();
    });
    this.db.pragma(`wal_autocheckpoint = ${backstop}`);
    this.stats.running = true;
    this.stats.starts++;
  }

  /**
   * Undefined, or while the WAL is being started over (see "Starting the WAL over") a promise that resolves when the
   * pause ends: the agent's batch commits wait for it (their event loop does not). Cheap when there is no pause.
   */
  beforeCommit(): Promise<void> | undefined {
    return this.pause?.done;
  }

  /** Whether a pause is under way (writes that can wait, such as marking messages published, come later). */
  get pausing(): boolean {
    return this.pause !== undefined;
  }

  private startPause(): void {
    const worker = this.worker;
    if (!worker) return;
    let end: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (end = resolve));
    const timer = setTimeout(() => {
      this.stats.pauseTimeouts++;
      this.timeoutsInARow++;
      this.grantAfter = performance.now() + Math.min(30_000, 1000 * 2 ** (this.timeoutsInARow - 1));
      this.endPause();
    }, this.opts.maxPauseMs ?? 50);
    timer.unref();
    this.pause = { done, end, timer, since: performance.now() };
    this.stats.pauses++;
    worker.postMessage('go');
  }

  private endPause(checkpointMs?: number): void {
    const pause = this.pause;
    if (!pause) return;
    this.pause = undefined;
    clearTimeout(pause.timer);
    this.stats.longestPauseMs = Math.max(this.stats.longestPauseMs, performance.now() - pause.since);
    this.opts.onPauseEnd?.(pause.since, checkpointMs);
    pause.end();
  }

  /** Resolves after the thread's next checkpoint (tests). */
  nextCheckpoint(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  private onMessage(m: FromCheckpointThread): void {
    if (m.type === 'checkpoint') {
      this.stats.checkpoints++;
      this.stats.lastLog = m.log;
      this.stats.lastCheckpointed = m.checkpointed;
      this.stats.longestMs = Math.max(this.stats.longestMs, m.ms);
      const listeners = this.listeners;
      this.listeners = [];
      listeners.forEach((l) => l());
    } else if (m.type === 'wal-long') {
      if (this.stopping || this.pause || performance.now() < this.grantAfter) this.worker?.postMessage('skip');
      else this.startPause();
    } else if (m.type === 'restart') {
      if (m.complete) this.stats.caughtUp++;
      if (this.pause) this.timeoutsInARow = 0;
      this.endPause(m.ms);
    } else if (m.type === 'idle') {
      this.idleExit = true;
    } else if (m.type === 'error') {
      this.stats.errors++;
      if (this.stats.errors === 1 || this.stats.errors % 100 === 0) this.log.warn({ err: m.message, code: m.code, errors: this.stats.errors }, 'WAL checkpoint failed; retrying');
    }
  }

  private restoreAutocheckpoint(): void {
    try {
      if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    } catch {
      // the database is failing; the agent hears of it from its own writes
    }
  }

  /** Ends the thread (its connection closes first) and gives the connection SQLite's automatic checkpoint back. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.endPause();
    await this.starting;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timeout);
    }
    this.restoreAutocheckpoint();
  }
}
