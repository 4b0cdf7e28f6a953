/**
 * A model set in a worker thread, behind the `Analyzer` interface.
 *
 * onnxruntime-node runs a session on the thread that calls it, so a model on
 * the agent's main thread takes event-loop time every input then waits for.
 * `WorkerAnalyzer` loads a model set (a `ModelRegistry` or a `LanguageRouter`,
 * described by plain options) in a `worker_threads` Worker and answers
 * `analyze()` over a dedicated MessagePort: the calling thread pays a message
 * post and a structured clone of the `Analysis`, nothing else.
 *
 * It is a drop-in `Analyzer` (and `SlotModels`: a `ModelSlot` can hold and swap
 * it): `loadedModels()`, `labels()` and `unknownThreshold` are read once when
 * the thread is ready. What differs from an in-process analyzer:
 *
 * - `WorkerAnalyzer.start()` resolves when the thread has loaded (and warmed)
 *   its models; a load error rejects it with the thread's message
 *   (`AnalyzerWorkerError`, code `WORKER_LOAD_FAILED`);
 * - requests are answered in the thread's order; several may be outstanding
 *   (`pending`); a thread that exits unexpectedly (an uncaught error, out of
 *   memory under `resourceLimits`, a native abort) rejects every outstanding
 *   request with code `WORKER_EXITED`, is restarted (`restart`, default at most
 *   3 times in 10 minutes) and, past that, disabled: every later call rejects
 *   with `WORKER_DISABLED`. `onEvent` hears each exit, restart and give-up;
 * - `nice` lowers the thread's CPU priority on Linux (nice is per thread
 *   there), so a model that only matters when there is time to spare (the
 *   shadow) gets the cores the live path leaves idle;
 * - `close()` lets outstanding requests finish, disposes the models in the
 *   thread and ends it; a thread that does not end within `closeTimeoutMs` is
 *   terminated. The thread keeps the process alive only while a request is
 *   outstanding, so a forgotten `close()` never hangs an exit.
 *
 * The thread's onnxruntime sessions are single-threaded (OnnxModel's
 * intra-op 1 / inter-op 1): a worker costs one core at most.
 */
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import type { RegistryOptions } from './registry.js';
import type { RouterOptions } from './language-router.js';
import type { Analysis, AnalyzeOptions, AnalyzeRequest, Analyzer, ModelRef, TaskName } from './types.js';

/**
 * Which model set the thread loads: plain options, as `ModelRegistry.load` / `LanguageRouter.load` take them. A
 * router with `warmUp` runs `LanguageRouter.warmUp()` after loading (every loaded language and the detector once).
 */
export type WorkerModelSpec =
  | { readonly kind: 'registry'; readonly options: RegistryOptions }
  | { readonly kind: 'router'; readonly options: RouterOptions; readonly warmUp?: boolean };

export interface WarmupRequest {
  readonly text: string;
  readonly tasks: readonly TaskName[];
  readonly options?: AnalyzeOptions;
}

export interface RestartPolicy {
  /** Most restarts within `windowMs`; one more unexpected exit disables the analyzer. 0: never restart. */
  readonly max: number;
  readonly windowMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = { max: 3, windowMs: 10 * 60_000 };

export interface WorkerAnalyzerOptions {
  readonly models: WorkerModelSpec;
  /** Analysed once in the thread after loading: an ONNX session's first run allocates, pay it at start. */
  readonly warmup?: readonly WarmupRequest[];
  /** Linux nice value for the thread, 0 (as the process) to 19 (only idle CPU). Ignored where threads have no own priority. */
  readonly nice?: number;
  /** The thread's V8 heap limits (the models' tensors live outside it, in onnxruntime). */
  readonly resourceLimits?: ResourceLimits;
  /** How long `close()` waits for the thread to finish and dispose its models before terminating it, ms. Default 2000. */
  readonly closeTimeoutMs?: number;
  readonly restart?: RestartPolicy;
  /** Told of every unexpected exit, restart and give-up (call sites log them). */
  readonly onEvent?: (event: WorkerAnalyzerEvent) => void;
}

export type WorkerAnalyzerEvent =
  | { readonly type: 'exit'; readonly error: AnalyzerWorkerError; readonly restarting: boolean }
  | { readonly type: 'restarted'; readonly restarts: number }
  | { readonly type: 'disabled'; readonly error: AnalyzerWorkerError };

export type AnalyzerWorkerErrorCode = 'WORKER_LOAD_FAILED' | 'WORKER_EXITED' | 'WORKER_DISABLED' | 'WORKER_CLOSED';

/** Why a request to the model thread failed; callers branch on `code`. */
export class AnalyzerWorkerError extends Error {
  override readonly name = 'AnalyzerWorkerError';
  constructor(
    message: string,
    readonly code: AnalyzerWorkerErrorCode,
  ) {
    super(message);
  }
}

// The protocol between this module and analyzer-thread.ts (both sides import these types only).
export interface ThreadData {
  readonly port: MessagePort;
  readonly models: WorkerModelSpec;
  readonly warmup: readonly WarmupRequest[];
  readonly nice: number;
}
export type ToThread =
  | { readonly type: 'analyze'; readonly id: number; readonly text: string; readonly tasks: readonly TaskName[]; readonly options?: AnalyzeOptions }
  /** A micro-batch in one message: `analyzeMany` in the thread, answered by one `results` message. */
  | { readonly type: 'analyzeMany'; readonly id: number; readonly requests: readonly AnalyzeRequest[] }
  | { readonly type: 'close' }
  /** Test hook: the thread calls process.exit(code), ending as a crash would. */
  | { readonly type: 'crash'; readonly code: number };
export interface ReadyInfo {
  readonly models: readonly ModelRef[];
  readonly labels: Readonly<Record<TaskName, readonly string[]>>;
  readonly unknownThreshold?: number;
  /** Whether `nice` took effect (Linux). */
  readonly niced: boolean;
}
export type FromThread =
  | ({ readonly type: 'ready' } & ReadyInfo)
  | { readonly type: 'load_failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly analysis: Analysis }
  | { readonly type: 'results'; readonly id: number; readonly analyses: Analysis[] }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

const THREAD_ENTRY = new URL('./analyzer-thread.js', import.meta.url);

interface Waiter {
  resolve(a: Analysis | Analysis[]): void;
  reject(err: Error): void;
}

/** One running thread: its port, its outstanding requests, its exit. */
class Thread {
  readonly pending = new Map<number, Waiter>();
  readonly exited: Promise<number>;
  closing = false;
  private lastError?: Error;
  private nextId = 1;
  onUnexpectedExit: (err: AnalyzerWorkerError) => void = () => undefined;

  constructor(
    readonly worker: Worker,
    private readonly port: MessagePort,
    readonly info: ReadyInfo,
  ) {
    port.on('message', (m: FromThread) => {
      if (m.type !== 'result' && m.type !== 'results' && m.type !== 'error') return;
      const w = this.pending.get(m.id);
      if (!w) return;
      this.pending.delete(m.id);
      this.refIfBusy();
      if (m.type === 'result') w.resolve(m.analysis);
      else if (m.type === 'results') w.resolve(m.analyses);
      else w.reject(new Error(m.message));
    });
    worker.on('error', (err) => (this.lastError = err));
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        const why = this.lastError ? `: ${this.lastError.message}` : '';
        const err = new AnalyzerWorkerError(`the model thread exited (code ${code})${why}`, 'WORKER_EXITED');
        this.failAll(err);
        port.close();
        if (!this.closing) this.onUnexpectedExit(err);
        resolve(code);
      }),
    );
    this.refIfBusy();
  }

  analyze(text: string, tasks: readonly TaskName[], options?: AnalyzeOptions): Promise<Analysis> {
    return this.request<Analysis>((id) => ({ type: 'analyze', id, text, tasks, options }));
  }

  analyzeMany(requests: readonly AnalyzeRequest[]): Promise<Analysis[]> {
    return this.request<Analysis[]>((id) => ({ type: 'analyzeMany', id, requests }));
  }

  /** Posts the request `message(id)` builds and returns its answer (`result` for analyze, `results` for analyzeMany). */
  private request<T extends Analysis | Analysis[]>(message: (id: number) => ToThread): Promise<T> {
    const id = this.nextId++;
    const answer = new Promise<Analysis | Analysis[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.refIfBusy();
    this.post(message(id));
    return answer as Promise<T>;
  }

  post(message: ToThread): void {
    try {
      this.port.postMessage(message);
    } catch (err) {
      // A request that cannot be posted (the port closed with the thread, or a value that cannot be cloned) fails as a promise, never in the caller's turn.
      if ('id' in message) {
        const w = this.pending.get(message.id);
        this.pending.delete(message.id);
        this.refIfBusy();
        if (w) return w.reject(err as Error);
      }
      throw err;
    }
  }

  failAll(err: Error): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiters) w.reject(err);
  }

  /** The thread (and its port) hold the process open only while a request is outstanding or it is closing. */
  private refIfBusy(): void {
    if (this.pending.size > 0 || this.closing) {
      this.worker.ref();
      this.port.ref();
    } else {
      this.worker.unref();
      this.port.unref();
    }
  }

  /** Asks the thread to finish, dispose and end; terminates it after `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.refIfBusy();
    try {
      this.post({ type: 'close' });
    } catch {
      // The port is already closed: the thread has gone.
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      await this.worker.terminate();
      await this.exited;
    }
  }
}

/** Starts a thread and waits for it to load its models. */
async function spawnThread(opts: WorkerAnalyzerOptions): Promise<Thread> {
  const { port1, port2 } = new MessageChannel();
  const data: ThreadData = { port: port2, models: opts.models, warmup: opts.warmup ?? [], nice: opts.nice ?? 0 };
  const worker = new Worker(THREAD_ENTRY, { workerData: data, transferList: [port2], resourceLimits: opts.resourceLimits, name: 'hubnlu-models' });
  let lastError: Error | undefined;
  const onError = (err: Error) => (lastError = err);
  worker.on('error', onError);
  try {
    const info = await new Promise<ReadyInfo>((resolve, reject) => {
      port1.once('message', (m: FromThread) => {
        if (m.type === 'ready') resolve({ models: m.models, labels: m.labels, unknownThreshold: m.unknownThreshold, niced: m.niced });
        else reject(new AnalyzerWorkerError(m.type === 'load_failed' ? m.message : `unexpected first message ${m.type} from the model thread`, 'WORKER_LOAD_FAILED'));
      });
      worker.once('exit', (code) =>
        reject(new AnalyzerWorkerError(`the model thread exited (code ${code}) while loading${lastError ? `: ${lastError.message}` : ''}`, 'WORKER_LOAD_FAILED')),
      );
    });
    worker.off('error', onError);
    worker.removeAllListeners('exit');
    return new Thread(worker, port1, info);
  } catch (err) {
    port1.close();
    await worker.terminate();
    throw err;
  }
}

export class WorkerAnalyzer implements Analyzer {
  private state: 'running' | 'restarting' | 'disabled' | 'closed' = 'running';
  private restarting?: Promise<void>;
  private disabledBy?: AnalyzerWorkerError;
  private readonly exits: number[] = [];
  private restartCount = 0;

  private constructor(
    private readonly opts: WorkerAnalyzerOptions,
    private thread: Thread,
  ) {
    this.watch(thread);
  }

  /** Starts the thread and resolves once its models are loaded and warmed. */
  static async start(opts: WorkerAnalyzerOptions): Promise<WorkerAnalyzer> {
    return new WorkerAnalyzer(opts, await spawnThread(opts));
  }

  get unknownThreshold(): number | undefined {
    return this.thread.info.unknownThreshold;
  }

  loadedModels(): readonly ModelRef[] {
    return this.thread.info.models;
  }

  labels(task: TaskName): readonly string[] {
    return this.thread.info.labels[task] ?? [];
  }

  /** Requests sent and not answered yet. */
  get pending(): number {
    return this.thread.pending.size;
  }

  /** Restarts after unexpected exits so far. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Whether the analyzer gave up after too many exits (every call rejects with WORKER_DISABLED). */
  get disabled(): boolean {
    return this.state === 'disabled';
  }

  /** Whether the thread was ever given up (it kept exiting), even if this analyzer has been closed since. */
  get givenUp(): boolean {
    return this.disabledBy !== undefined;
  }

  /** Whether the `nice` setting took effect in the thread. */
  get niced(): boolean {
    return this.thread.info.niced;
  }

  /** The Worker's threadId (logs). */
  get threadId(): number {
    return this.thread.worker.threadId;
  }

  analyze(text: string, tasks: readonly TaskName[], options?: AnalyzeOptions): Promise<Analysis> {
    // Running: posted now, in the caller's turn (it may go on to other work while the thread analyses).
    if (this.state === 'running') return this.thread.analyze(text, tasks, options);
    return this.usable().then(() => this.thread.analyze(text, tasks, options));
  }

  /**
   * The analyses of a micro-batch, in order: one message to the thread and one back (the thread runs its model set's
   * `analyzeMany`, or `analyze` per request where the set has none). Rejects as a whole if any fails.
   */
  analyzeMany(requests: readonly AnalyzeRequest[]): Promise<Analysis[]> {
    if (this.state === 'running') return this.thread.analyzeMany(requests);
    return this.usable().then(() => this.thread.analyzeMany(requests));
  }

  /** Waits out a restart; throws when the analyzer is closed or disabled. */
  private async usable(): Promise<void> {
    if (this.state === 'restarting') await this.restarting;
    if (this.state === 'closed') throw new AnalyzerWorkerError('the model thread is closed; start a new WorkerAnalyzer', 'WORKER_CLOSED');
    if (this.state === 'disabled') throw new AnalyzerWorkerError(`the model thread is disabled: ${this.disabledBy?.message ?? 'it kept exiting'}`, 'WORKER_DISABLED');
  }

  /** Test hook: makes the thread exit with `code` as a crash would (process.exit inside it). */
  simulateCrash(code = 1): void {
    this.thread.post({ type: 'crash', code });
  }

  /** Lets outstanding requests finish, disposes the models and ends the thread. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasRestarting = this.restarting;
    this.state = 'closed';
    await wasRestarting;
    await this.thread.close(this.opts.closeTimeoutMs ?? 2000);
  }

  private watch(thread: Thread): void {
    thread.onUnexpectedExit = (err) => {
      if (this.state === 'closed') return;
      const policy = this.opts.restart ?? DEFAULT_RESTART;
      const now = Date.now();
      this.exits.push(now);
      while (this.exits.length > 0 && this.exits[0] < now - policy.windowMs) this.exits.shift();
      const restarting = this.exits.length <= policy.max;
      this.opts.onEvent?.({ type: 'exit', error: err, restarting });
      if (!restarting) return this.disable(new AnalyzerWorkerError(`${err.message}; it exited ${this.exits.length} times within ${policy.windowMs / 1000} s`, 'WORKER_DISABLED'));
      this.state = 'restarting';
      this.restarting = spawnThread(this.opts).then(
        async (fresh) => {
          if (this.state === 'closed') {
            fresh.closing = true;
            await fresh.close(this.opts.closeTimeoutMs ?? 2000);
            return;
          }
          this.thread = fresh;
          this.watch(fresh);
          this.state = 'running';
          this.restartCount++;
          this.opts.onEvent?.({ type: 'restarted', restarts: this.restartCount });
        },
        (loadErr: Error) => {
          if (this.state === 'closed') return;
          this.disable(new AnalyzerWorkerError(`${err.message}, and restarting it failed: ${loadErr.message}`, 'WORKER_DISABLED'));
        },
      );
    };
  }

  private disable(err: AnalyzerWorkerError): void {
    this.state = 'disabled';
    this.disabledBy = err;
    this.opts.onEvent?.({ type: 'disabled', error: err });
  }
}
