/**
 * The only module that imports onnxruntime-node (STYLE: one file per runtime).
 * Everything else talks to `OnnxModel`, which takes and returns plain typed arrays.
 *
 * Runs are synchronous (issue 10): onnxruntime-node 1.30's public
 * `InferenceSession.run` defers every run to a `setImmediate` (its backend.js)
 * and wraps feeds and results in checked `Tensor` objects, so each of the 3–4
 * calls an analysis makes went round the whole event loop (other I/O between
 * them, several ms a batch under load) for work that takes microseconds. The
 * native session under it (`binding.InferenceSession`: `loadModel`, a
 * synchronous `run(feeds, fetches, options)`) is called directly; `run` still
 * returns a promise (already settled), so callers are unchanged and a whole
 * analysis finishes in one macrotask. Where the binding does not have the shape
 * this was written against (another onnxruntime-node version), the public
 * async API is used, as before.
 */
// First: the environment onnxruntime reads when it loads (telemetry off).
import './onnx-env.js';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';

export type FeedValue =
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'int32'; data: Int32Array; dims: readonly number[] }
  | { type: 'float32'; data: Float32Array; dims: readonly number[] };

export interface OnnxOutput {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

function sessionOptions(options: { threads?: number }): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

/** What this module uses of onnxruntime-node's native session (its dist/binding.js, 1.30). */
interface NativeSession {
  loadModel(path: string, options: object): void;
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, NativeTensor>, fetches: Readonly<Record<string, null>>, options: object): Record<string, { data: unknown; dims: readonly number[] }>;
  dispose(): void;
  readonly inputMetadata: readonly { readonly name: string }[];
  readonly outputMetadata: readonly { readonly name: string }[];
}

/** A feed as the native run reads it (what an onnxruntime-common `Tensor` holds). */
interface NativeTensor {
  readonly type: FeedValue['type'];
  readonly data: FeedValue['data'];
  readonly dims: readonly number[];
  readonly location: 'cpu';
}

interface NativeBinding {
  readonly InferenceSession: new () => NativeSession;
  /** Once per process, what the public API calls before its first session (log level, the Tensor class results are made of). */
  readonly initOrt: () => void;
}

let nativeBinding: NativeBinding | null | undefined;

const NO_RUN_OPTIONS = Object.freeze({});

/**
 * onnxruntime-node's native binding, resolved from the package's own location (the module the public API uses, so
 * one native library and one `initOrt`), or null when its shape is not the one this module was written against.
 */
export function onnxNativeBinding(): NativeBinding | null {
  if (nativeBinding !== undefined) return nativeBinding;
  nativeBinding = null;
  try {
    const req = createRequire(createRequire(import.meta.url).resolve('onnxruntime-node'));
    const mod = req('./binding.js') as { binding?: { InferenceSession?: unknown }; initOrt?: unknown };
    const Session = mod.binding?.InferenceSession;
    const proto = typeof Session === 'function' ? (Session.prototype as Record<string, unknown>) : null;
    if (proto && typeof mod.initOrt === 'function' && ['loadModel', 'run', 'dispose'].every((m) => typeof proto[m] === 'function')) {
      nativeBinding = { InferenceSession: Session as new () => NativeSession, initOrt: mod.initOrt as () => void };
    }
  } catch {
    // Another layout: the public API below.
  }
  return nativeBinding;
}

export class OnnxModel {
  /** Every output, as the native run is asked for them (frozen: it only reads them, so one object serves every run). */
  private readonly fetches: Readonly<Record<string, null>>;
  private disposed = false;

  private constructor(
    private readonly session: { readonly native: NativeSession } | { readonly api: ort.InferenceSession },
    readonly path: string,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {
    const fetches: Record<string, null> = {};
    for (const name of outputNames) fetches[name] = null;
    this.fetches = Object.freeze(fetches);
  }

  /** Loads a model file. Single-threaded sessions: a hub runs one utterance at a time, and threads cost memory. */
  static async load(path: string, options: { threads?: number; api?: boolean } = {}): Promise<OnnxModel> {
    return OnnxModel.open(path, path, options);
  }

  /** Loads a graph from bytes (a graph rewritten in memory); `path` names it in errors. */
  static async fromBytes(bytes: Uint8Array, path: string, options: { threads?: number; api?: boolean } = {}): Promise<OnnxModel> {
    return OnnxModel.open(bytes, path, options);
  }

  /** `api: true` uses onnxruntime-node's public (asynchronous) API even where the native session is available: tests compare the two. */
  private static async open(source: string | Uint8Array, path: string, options: { threads?: number; api?: boolean }): Promise<OnnxModel> {
    try {
      return await OnnxModel.openSession(source, path, options);
    } catch (err) {
      // onnxruntime's own words ("Load model from … failed:Protobuf parsing failed.") say neither which file of the model nor what to do.
      const why = (err as Error).message.replace(/^Load model from \S+ failed:\s*/, '');
      throw new Error(`${path}: onnxruntime cannot load it (${why}); the file is damaged or not the graph this model directory was trained with: copy the whole model directory again or retrain it`);
    }
  }

  private static async openSession(source: string | Uint8Array, path: string, options: { threads?: number; api?: boolean }): Promise<OnnxModel> {
    const native = options.api ? null : onnxNativeBinding();
    if (!native) {
      const o = sessionOptions(options);
      const session = typeof source === 'string' ? await ort.InferenceSession.create(source, o) : await ort.InferenceSession.create(source, o);
      return new OnnxModel({ api: session }, path, session.inputNames, session.outputNames);
    }
    native.initOrt();
    const session = new native.InferenceSession();
    // As the public API passes them: its execution-provider list filtered to the available ones (none asked: none).
    const opts = { ...sessionOptions(options), executionProviders: [] };
    if (typeof source === 'string') session.loadModel(source, opts);
    else session.loadModel(source.buffer, source.byteOffset, source.byteLength, opts);
    const names = (m: readonly { readonly name: string }[]) => m.map((x) => x.name);
    return new OnnxModel({ native: session }, path, names(session.inputMetadata), names(session.outputMetadata));
  }

  /** Whether runs go straight to the native session (synchronous) rather than through the public async API. */
  get synchronous(): boolean {
    return 'native' in this.session;
  }

  /**
   * Runs the graph. With the native session the work is done before this returns (the promise is already
   * settled); an error (a missing input, a wrong shape) rejects it, as with the public API.
   */
  async run(feeds: Record<string, FeedValue>): Promise<Record<string, OnnxOutput>> {
    if (this.disposed) throw new Error(`${this.path}: the session was disposed; load the model again`);
    if ('native' in this.session) {
      const tensors: Record<string, NativeTensor> = {};
      for (const name of this.inputNames) {
        const feed = feeds[name];
        if (feed === undefined) throw new Error(`${this.path}: input '${name}' is missing in the feeds`);
        tensors[name] = { type: feed.type, data: feed.data, dims: feed.dims, location: 'cpu' };
      }
      const results = this.session.native.run(tensors, this.fetches, NO_RUN_OPTIONS);
      const out: Record<string, OnnxOutput> = {};
      for (const name of this.outputNames) {
        const r = results[name];
        out[name] = { data: r.data as Float32Array, dims: r.dims };
      }
      return out;
    }
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      tensors[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
    }
    const results = await this.session.api.run(tensors);
    const out: Record<string, OnnxOutput> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = { data: tensor.data as Float32Array, dims: tensor.dims };
    }
    return out;
  }

  /** Releases the session. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if ('native' in this.session) this.session.native.dispose();
    else await this.session.api.release();
  }
}
