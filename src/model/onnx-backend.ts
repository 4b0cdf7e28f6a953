/**
 * The only module that imports onnxruntime-node (STYLE: one file per runtime).
 * Everything else talks to `OnnxModel`, which takes and returns plain typed arrays.
 */
// First: the environment onnxruntime reads when it loads (telemetry off).
import './onnx-env.js';
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

export class OnnxModel {
  private constructor(private readonly session: ort.InferenceSession, readonly path: string) {}

  /** Loads a model file. Single-threaded sessions: a hub runs one utterance at a time, and threads cost memory. */
  static async load(path: string, options: { threads?: number } = {}): Promise<OnnxModel> {
    return new OnnxModel(await ort.InferenceSession.create(path, sessionOptions(options)), path);
  }

  /** Loads a graph from bytes (a graph rewritten in memory); `path` names it in errors. */
  static async fromBytes(bytes: Uint8Array, path: string, options: { threads?: number } = {}): Promise<OnnxModel> {
    return new OnnxModel(await ort.InferenceSession.create(bytes, sessionOptions(options)), path);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, FeedValue>): Promise<Record<string, OnnxOutput>> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      tensors[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
    }
    const results = await this.session.run(tensors);
    const out: Record<string, OnnxOutput> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = { data: tensor.data as Float32Array, dims: tensor.dims };
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
