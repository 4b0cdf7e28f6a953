/**
 * Runtime for a trained sentence classifier (intent or sentiment): loads a
 * model directory, featurizes with the shared featurizer, runs the ONNX graph
 * and applies the manifest's temperature.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTokens, FeatureRemap, type EncodedText, type Lexicon } from './features.js';
import { loadManifest, type ModelManifest } from './manifest.js';
import { batchClassifierGraph, BATCH_INPUTS } from './batch-graph.js';
import { OnnxModel } from './onnx-backend.js';
import type { Token } from './text.js';
import type { ModelRef, ScoredLabel } from './types.js';

export interface Classification {
  /** Every label with its calibrated probability, most likely first. */
  readonly ranked: readonly ScoredLabel[];
  /** Raw logits in manifest label order (before temperature). */
  readonly logits: Float32Array;
}

export class TextClassifier {
  private work = { p: new Float64Array(0), order: new Int32Array(0) };

  private constructor(
    readonly dir: string,
    readonly manifest: ModelManifest,
    private readonly remap: FeatureRemap,
    private readonly model: OnnxModel,
    /** Whether `model` is the batched form of the file (batch-graph.ts): several sentences per call. */
    readonly batched: boolean,
    private readonly lexicon?: Lexicon,
  ) {}

  /** Loads `<dir>/manifest.json`, the feature remap and the ONNX graph. */
  static async load(dir: string, manifest: ModelManifest = loadManifest(dir)): Promise<TextClassifier> {
    const featuresFile = join(dir, manifest.files.features);
    const remap = FeatureRemap.fromBytes(new Uint8Array(readFileSync(featuresFile)), featuresFile);
    if (remap.size !== manifest.architecture.rows) {
      throw new Error(`${featuresFile}: holds ${remap.size} rows but manifest.json says architecture.rows = ${manifest.architecture.rows}; the directory mixes files from two trainings, retrain or restore it`);
    }
    const lexicon = manifest.featurizer.lexicon ? loadLexicon(join(dir, manifest.featurizer.lexicon.file), manifest.featurizer.lexicon.entries) : undefined;
    const modelFile = join(dir, manifest.files.classifier);
    // The batched form of the same weights when the file has a shape batch-graph.ts knows; else the file as it is.
    const batchedBytes = batchClassifierGraph(new Uint8Array(readFileSync(modelFile)), modelFile);
    const model = batchedBytes ? await OnnxModel.fromBytes(batchedBytes, modelFile) : await OnnxModel.load(modelFile);
    const want = batchedBytes ? [BATCH_INPUTS.ids, BATCH_INPUTS.weight] : ['ids', 'inv_count'];
    if (!want.every((n) => model.inputNames.includes(n)) || !model.outputNames.includes('logits')) {
      await model.dispose();
      throw new Error(`${modelFile}: expected inputs ids, inv_count and output logits, got inputs ${model.inputNames.join(', ')} and outputs ${model.outputNames.join(', ')}; re-export it with this hubnlu version`);
    }
    const classifier = new TextClassifier(dir, manifest, remap, model, batchedBytes !== null, lexicon);
    // One run now: a graph from another training (or with other input types) scores some other number of labels, and
    // would otherwise load and name the wrong label, or none, for every message.
    let scored: number;
    try {
      scored = (await classifier.logitsMany([{ rows: new Int32Array(1), count: 1 }]))[0].length;
    } catch (err) {
      await model.dispose();
      throw new Error(`${modelFile}: a test run failed (${(err as Error).message}); the graph does not take the inputs this hubnlu gives, so copy the whole model directory again or retrain it`);
    }
    if (scored !== manifest.labels.length) {
      await model.dispose();
      throw new Error(`${modelFile}: the graph scores ${scored} labels but manifest.json lists ${manifest.labels.length}; the directory mixes files from two trainings, copy the whole model directory again or retrain it`);
    }
    return classifier;
  }

  get ref(): ModelRef {
    return { task: this.manifest.task, name: this.manifest.name, version: this.manifest.version };
  }

  get labels(): readonly string[] {
    return this.manifest.labels;
  }

  get temperature(): number {
    return this.manifest.calibration.temperature;
  }

  /**
   * The model input for a tokenised sentence (the same function the trainer
   * uses). `text` is the sentence the tokens came from: models whose
   * featurizer reads raw-text cues (`surface`, `negation`) need it.
   */
  encode(tokens: readonly Token[], text?: string): EncodedText {
    return encodeTokens(tokens, this.manifest.featurizer, this.remap, text, this.lexicon);
  }

  /** Raw logits for an encoded sentence, in label order. */
  async logits(enc: EncodedText): Promise<Float32Array> {
    if (this.batched) return (await this.logitsMany([enc]))[0];
    const out = await this.model.run({
      ids: { type: 'int32', data: enc.rows, dims: [enc.rows.length] },
      inv_count: { type: 'float32', data: new Float32Array([enc.count > 0 ? 1 / enc.count : 0]), dims: [1] },
    });
    return out.logits.data;
  }

  /**
   * Raw logits for several encoded sentences: one ONNX call with the batched
   * graph (rows padded with row 0 at weight 0), else one call per sentence.
   */
  async logitsMany(encs: readonly EncodedText[]): Promise<Float32Array[]> {
    if (!this.batched) {
      const out: Float32Array[] = [];
      for (const enc of encs) out.push(await this.logits(enc));
      return out;
    }
    const b = encs.length;
    let len = 1; // a batch of empty sentences still needs one (weightless) position
    for (const enc of encs) len = Math.max(len, enc.rows.length);
    const ids = new Int32Array(b * len);
    const weight = new Float32Array(b * len);
    for (let i = 0; i < b; i++) {
      const { rows, count } = encs[i];
      ids.set(rows, i * len);
      weight.fill(count > 0 ? 1 / count : 0, i * len, i * len + rows.length);
    }
    const out = await this.model.run({
      [BATCH_INPUTS.ids]: { type: 'int32', data: ids, dims: [b, len] },
      [BATCH_INPUTS.weight]: { type: 'float32', data: weight, dims: [b, len] },
    });
    const classes = out.logits.dims[1];
    const data = out.logits.data;
    return encs.map((_, i) => data.subarray(i * classes, (i + 1) * classes));
  }

  /** Calibrated probabilities (softmax of logits / temperature), in label order. */
  probabilities(logits: Float32Array): Float64Array {
    return this.probabilitiesInto(logits, new Float64Array(logits.length));
  }

  private probabilitiesInto(logits: Float32Array, p: Float64Array): Float64Array {
    const t = this.temperature;
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / t);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) {
      p[i] = Math.exp(logits[i] / t - max);
      sum += p[i];
    }
    for (let i = 0; i < p.length; i++) p[i] /= sum;
    return p;
  }

  /** `top`: rank only the `top` most likely labels (the rest are left out of `ranked`); default every label. */
  async classify(tokens: readonly Token[], text?: string, top?: number): Promise<Classification> {
    return this.classification(await this.logits(this.encode(tokens, text)), top);
  }

  /** `classify` for several sentences (one ONNX call when the graph is batched). */
  async classifyMany(inputs: ReadonlyArray<{ readonly tokens: readonly Token[]; readonly text?: string }>, top?: number): Promise<Classification[]> {
    const logits = await this.logitsMany(inputs.map((x) => this.encode(x.tokens, x.text)));
    return logits.map((l) => this.classification(l, top));
  }

  private classification(logits: Float32Array, top = Infinity): Classification {
    const labels = this.manifest.labels;
    const n = labels.length;
    // Working arrays of this classifier, reused (synchronous; only the ranked objects leave this method).
    if (this.work.p.length !== logits.length) this.work = { p: new Float64Array(logits.length), order: new Int32Array(n) };
    const p = this.probabilitiesInto(logits, this.work.p);
    const order = this.work.order;
    // Label indices by descending probability, equal ones in label order (what a stable sort of the labels gives):
    // an insertion sort of an index array, about half the cost of sorting 79 objects with a comparator (issue 10).
    for (let i = 0; i < n; i++) {
      const v = p[i];
      let j = i;
      while (j > 0 && p[order[j - 1]] < v) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    const kept = Math.min(n, Math.max(1, top));
    const ranked: ScoredLabel[] = new Array(kept);
    for (let k = 0; k < kept; k++) ranked[k] = { name: labels[order[k]], confidence: p[order[k]] };
    return { ranked, logits };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** Reads a model directory's lexicon (a JSON object word → valence), checking it against the manifest. */
export function loadLexicon(file: string, entries: number): Lexicon {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the lexicon the manifest names (${(e as Error).message}); copy the whole model directory or retrain it`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: must hold one JSON object word → valence; retrain the model`);
  const map = new Map<string, number>();
  for (const [w, v] of Object.entries(parsed)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: the valence of "${w}" is not a number; retrain the model`);
    map.set(w, v);
  }
  if (map.size !== entries) throw new Error(`${file}: holds ${map.size} entries but manifest.json says featurizer.lexicon.entries = ${entries}; the directory mixes files from two trainings, retrain or restore it`);
  return map;
}
