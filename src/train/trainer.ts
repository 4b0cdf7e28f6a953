/**
 * The classifier training pipeline, as a library (the CLI, `train-defaults`
 * and, later, on-hub retraining from user corrections all call this):
 *
 *   featurize (shared featurizer) → vocabulary of hashed ids seen in training
 *   → fastText SGD → [self-training on unlabelled in-domain text]
 *   → prune rows that carry little signal → [per-class bias tuning on dev]
 *   → temperature scaling on dev.
 *
 * Everything is seeded; two runs with the same inputs give the same weights.
 */
import { basename } from 'node:path';
import { DEFAULT_FEATURIZER, FeatureRemap, featurizeTokens, type EncodedText, type FeaturizerSettings, type Lexicon } from '../model/features.js';
import { normalizeText, tokenize } from '../model/text.js';
import type { ModelTask } from '../model/types.js';
import { fitTemperature, tuneClassBiases, type BiasObjective, type ScoredSet, type TemperatureFit } from './calibrate.js';
import type { Dataset, LabelledRow } from '../data/rows.js';
import { DEFAULT_FASTTEXT, FastTextScorer, concatEnsemble, foldLinearOutput, rowNorms, selectRows, trainFastText, type Example, type FastTextOptions, type FastTextWeights } from './fasttext.js';
import { silentProgress, type ProgressReporter } from './progress.js';
import { pretrainedRow, type PretrainedRows, type WordView } from './skipgram.js';
import { mulberry32 } from '../data/random.js';

export interface SelfTrainingOptions {
  /** Pseudo-labelling rounds (each retrains from scratch on labelled + pseudo-labelled text). */
  readonly rounds: number;
  /** Minimum (uncalibrated) top probability for a pseudo-label. */
  readonly threshold: number;
  /** Loss weight of a pseudo-labelled sentence. */
  readonly weight: number;
}

/** One member of an ensemble trained with its own settings (see `ClassifierTrainConfig.ensembleMembers`). */
export interface EnsembleMember {
  readonly seed: number;
  readonly fileWeights?: Readonly<Record<string, number>>;
  readonly classBalance?: number;
  readonly classBalanceScope?: 'all' | 'file';
  readonly fasttext?: Partial<Pick<FastTextOptions, 'lr' | 'epochs' | 'labelSmoothing' | 'dim'>>;
  /**
   * A feature view: the member trains on the features this featurizer variant
   * produces (e.g. `{ charNgrams: null }`: words and cues without character
   * n-grams; it must give a subset of the model's features), still divided by
   * the count of *all* the sentence's features, and its rows outside the view
   * are zeroed, so the joined model keeps one table and one average.
   */
  readonly features?: Partial<FeaturizerSettings>;
}

export interface ClassifierTrainConfig {
  readonly task: ModelTask;
  readonly train: readonly Dataset[];
  /** Dev sets: the first gives the per-epoch dev accuracy; all are used for bias tuning and calibration. */
  readonly dev?: readonly Dataset[];
  /** In-domain sentences without labels, for self-training. */
  readonly unlabelled?: { readonly file: string; readonly texts: readonly string[] } | null;
  /** Output label order (default: sorted training labels). */
  readonly labels?: readonly string[];
  readonly featurizer?: FeaturizerSettings;
  /** The lexicon `featurizer.lexicon` names (required when it names one); shipped in the model directory. */
  readonly lexicon?: Lexicon;
  readonly fasttext?: Partial<FastTextOptions>;
  readonly selfTraining?: SelfTrainingOptions | null;
  /** Hashed ids seen fewer times in the training text are not given a row. */
  readonly minCount?: number;
  /** Keep at most this many rows, the most important ones (pruning). */
  readonly maxRows?: number;
  /** Loss weight per training file (by base name, e.g. `semeval.train.jsonl`); default 1. */
  readonly fileWeights?: Readonly<Record<string, number>>;
  /** Loss weight of a class ∝ (mean count / class count)^classBalance; 0 = none. */
  readonly classBalance?: number;
  /**
   * Where `classBalance` counts classes: over all training rows (`all`, the
   * default), or inside each training file (`file`: each corpus's own label
   * mix is balanced, so one corpus's skew does not set the others' weights;
   * pseudo-labelled rows then get class weight 1).
   */
  readonly classBalanceScope?: 'all' | 'file';
  /** Tune per-class logit offsets for dev macro-F1 (few-class tasks). */
  readonly tuneBiases?: boolean;
  /** What the bias tuning maximises over the dev sets (default `mean`). */
  readonly biasObjective?: BiasObjective;
  /**
   * Temperature: fit on the dev sets (default when there are any), or reuse a
   * fit made for the same recipe on held-out data (the shipped intent model
   * trains on its dev set, so it takes the temperature fit when it did not).
   */
  readonly calibration?: { readonly temperature: number; readonly eceBefore: number; readonly eceAfter: number; readonly fitOn: string } | null;
  readonly progress?: ProgressReporter;
  /**
   * Rows pre-trained without labels (`pretrainSkipGram`): a hashed id they hold
   * starts from its vector × `scale` instead of the random init (linear models).
   */
  readonly pretrained?: { readonly rows: PretrainedRows; readonly scale: number } | null;
  /**
   * Label-prior shift towards the unlabelled in-domain text (Saerens et al.
   * 2002): EM estimates the class prior of `unlabelled` from the trained
   * model's probabilities, and `scale × log(prior there / prior on the
   * labelled training text)` is added to the class biases, but never less than
   * `floor` (0: labels are only raised, none pushed down). Needs `unlabelled`.
   */
  readonly priorShift?: { readonly scale: number; readonly floor?: number; readonly iterations?: number } | null;
  /**
   * Distillation: a teacher's probabilities (in `labels` order) by normalised
   * text. A labelled row the teacher scored trains towards `alpha × teacher +
   * (1 − alpha) × its smoothed label`; in self-training, an unlabelled sentence
   * the teacher scored gets `unlabelledAlpha × teacher + (1 − unlabelledAlpha)
   * × the student's one-hot pseudo-label` as target (and is kept when that
   * target's top probability reaches the self-training threshold).
   */
  readonly distill?: { readonly teacher: (text: string) => Float32Array | undefined; readonly alpha: number; readonly unlabelledAlpha: number } | null;
  /**
   * Ensemble members, each trained on the same rows and vocabulary with its own
   * seed and, where given, its own file weights, class balance, lr, epochs or
   * dimensions; their logits are averaged (`concatEnsemble`), so a folded model
   * ships the same size as one member. Overrides `fasttext.ensembleSeeds`.
   * Linear models without self-training only.
   */
  readonly ensembleMembers?: readonly EnsembleMember[] | null;
  /**
   * A pre-trained word view next to the trained bag (issue 13): each word's
   * vector (`wordViewFromSkipGram`) fills `words.dim` extra dimensions of its
   * unigram's row (rows for the view's words are added to the vocabulary), so
   * the sentence gets Σ word vectors / feature count as a second input whose
   * output weights train with the rest. Those dimensions learn at `lr` × the
   * rows' rate (0, the default: frozen). The model stays one linear table and
   * folds to the same shipped size. Linear models without ensembles only
   * (with self-training, every round starts again from the view).
   */
  readonly frozenView?: { readonly words: WordView; readonly lr?: number } | null;
  /**
   * Joint intent + slot training (issue 13): the labelled rows also train an
   * auxiliary head that predicts which slot types the sentence holds
   * (`FastTextOptions.auxLabels`), with this loss weight; the head is dropped
   * after training, so the model and its runtime are unchanged. Unset or
   * null: off (training exactly as before).
   */
  readonly auxSlots?: { readonly weight: number } | null;
}

export interface TrainedClassifier {
  readonly task: ModelTask;
  readonly labels: readonly string[];
  readonly featurizer: FeaturizerSettings;
  /** Present when `featurizer.lexicon` is set: written to the model directory next to the graph. */
  readonly lexicon: Lexicon | null;
  readonly options: FastTextOptions;
  /** Pruned weights; tuned biases are already folded into `b2`. */
  readonly weights: FastTextWeights;
  readonly remap: FeatureRemap;
  readonly classBias: readonly number[] | null;
  readonly calibration: { readonly temperature: number; readonly eceBefore: number; readonly eceAfter: number; readonly nllBefore?: number; readonly nllAfter?: number; readonly fitOn: string };
  readonly stats: {
    readonly trainRows: number;
    readonly vocabularyRows: number;
    readonly keptRows: number;
    readonly pseudoLabelled: readonly number[];
    readonly seconds: number;
    /** Accuracy (JS forward pass, fp32) on each dev set, before and after pruning. */
    readonly devAccuracy: Readonly<Record<string, { readonly unpruned: number; readonly pruned: number; readonly priorShifted?: number }>>;
  };
}

interface Featurized {
  readonly hashed: Uint32Array;
}

function featurizeAll(texts: readonly string[], s: FeaturizerSettings, lexicon?: Lexicon): Featurized[] {
  return texts.map((t) => ({ hashed: featurizeTokens(tokenize(t), s, t, lexicon) }));
}

function buildVocabulary(sets: readonly Featurized[][], minCount: number): FeatureRemap {
  const counts = new Map<number, number>();
  for (const set of sets) for (const f of set) for (const id of f.hashed) counts.set(id, (counts.get(id) ?? 0) + 1);
  const ids: number[] = [];
  for (const [id, c] of counts) if (c >= minCount) ids.push(id);
  ids.sort((a, b) => a - b);
  return new FeatureRemap(Uint32Array.from(ids));
}

/** Hashed features → model input under a remap; the same as `encodeTokens` in features.ts, without re-tokenising. */
function encode(f: Featurized, remap: FeatureRemap): EncodedText {
  return { rows: remap.rows(f.hashed), count: f.hashed.length };
}

/**
 * What the trainer feeds the model for each sentence, exactly as computed
 * during training (exported so tests can check it equals the runtime's
 * `TextClassifier.encode`).
 */
export function encodeForTraining(texts: readonly string[], s: FeaturizerSettings, remap: FeatureRemap, lexicon?: Lexicon): EncodedText[] {
  return featurizeAll(texts, s, lexicon).map((f) => encode(f, remap));
}

function argmax(x: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
  return b;
}

function accuracyOf(w: FastTextWeights, enc: readonly EncodedText[], gold: readonly number[]): number {
  if (enc.length === 0) return 0;
  const s = new FastTextScorer(w);
  const out = new Float32Array(w.numClasses);
  let ok = 0;
  enc.forEach((e, i) => {
    if (argmax(s.logits(e.rows, e.count, out)) === gold[i]) ok++;
  });
  return ok / enc.length;
}

function logitsOf(w: FastTextWeights, enc: readonly EncodedText[]): Float32Array[] {
  const s = new FastTextScorer(w);
  return enc.map((e) => Float32Array.from(s.logits(e.rows, e.count, new Float32Array(w.numClasses))));
}

/**
 * Row importance for pruning: how much a row can move the logits. For the
 * linear model that is ‖e_r · W2‖ (a direction W2 ignores carries no signal);
 * with a hidden layer, the plain row norm.
 */
function rowImportance(w: FastTextWeights): Float32Array {
  if (w.hidden > 0) return rowNorms(w);
  const out = new Float32Array(w.numRows);
  const z = new Float32Array(w.numClasses);
  for (let r = 0; r < w.numRows; r++) {
    z.fill(0);
    for (let d = 0; d < w.dim; d++) {
      const v = w.emb[r * w.dim + d];
      const off = d * w.numClasses;
      for (let c = 0; c < w.numClasses; c++) z[c] += v * w.w2[off + c];
    }
    let mean = 0;
    for (let c = 0; c < w.numClasses; c++) mean += z[c] / w.numClasses;
    // Softmax ignores a shift shared by all classes: measure around the mean.
    let s = 0;
    for (let c = 0; c < w.numClasses; c++) s += (z[c] - mean) ** 2;
    out[r] = Math.sqrt(s);
  }
  return out;
}

/** Initial weights from pre-trained rows: their vectors (× scale) where the remap holds their id, fastText's random init elsewhere, a zero output layer. */
function pretrainedInit(p: PretrainedRows, scale: number, remap: FeatureRemap, opts: FastTextOptions, numClasses: number, seed: number): FastTextWeights {
  const dim = opts.dim;
  if (p.dim !== dim) throw new Error(`pre-trained rows have ${p.dim} dimensions, the classifier ${dim}`);
  if (opts.hidden > 0) throw new Error('pre-trained rows initialise linear models only (hidden 0)');
  const rand = mulberry32(seed ^ 0x5eed);
  const emb = new Float32Array(remap.size * dim);
  for (let r = 0; r < remap.size; r++) {
    const v = pretrainedRow(p, remap.ids[r]);
    for (let d = 0; d < dim; d++) emb[r * dim + d] = v ? v[d] * scale : (rand() * 2 - 1) / dim;
  }
  return { numRows: remap.size, dim, hidden: 0, numClasses, emb, w1: null, b1: null, w2: new Float32Array(dim * numClasses), b2: new Float32Array(numClasses) };
}

/**
 * Initial weights with a word view (`ClassifierTrainConfig.frozenView`): the
 * trained dimensions start as fastText's random init on rows some example
 * uses (0 on rows only the view's words hold, which never train), the view's
 * dimensions hold the word vectors on their unigrams' rows (0 elsewhere).
 */
function frozenViewInit(v: WordView, remap: FeatureRemap, examples: readonly Example[], opts: FastTextOptions, numClasses: number, seed: number): FastTextWeights {
  const dim = opts.dim;
  const own = dim - v.dim;
  const used = new Uint8Array(remap.size);
  for (const e of examples) for (const r of e.rows) used[r] = 1;
  const rand = mulberry32(seed ^ 0xf0e1);
  const emb = new Float32Array(remap.size * dim);
  for (let r = 0; r < remap.size; r++) {
    if (used[r]) for (let d = 0; d < own; d++) emb[r * dim + d] = (rand() * 2 - 1) / own;
    const w = pretrainedRow(v, remap.ids[r]);
    if (w) emb.set(w, r * dim + own);
  }
  return { numRows: remap.size, dim, hidden: 0, numClasses, emb, w1: null, b1: null, w2: new Float32Array(dim * numClasses), b2: new Float32Array(numClasses) };
}

function softmaxMean(w: FastTextWeights, enc: readonly EncodedText[], prior?: readonly number[], base?: readonly number[]): number[] {
  const scorer = new FastTextScorer(w);
  const out = new Float32Array(w.numClasses);
  const mean = new Array<number>(w.numClasses).fill(0);
  const p = new Float64Array(w.numClasses);
  for (const e of enc) {
    scorer.logits(e.rows, e.count, out);
    let max = -Infinity;
    for (const v of out) max = Math.max(max, v);
    let sum = 0;
    for (let c = 0; c < p.length; c++) {
      p[c] = Math.exp(out[c] - max) * (prior && base ? prior[c] / base[c] : 1);
      sum += p[c];
    }
    for (let c = 0; c < p.length; c++) mean[c] += p[c] / sum / enc.length;
  }
  return mean;
}

/**
 * log(prior on `target` / prior on `train`) per class, the priors being the
 * model's mean probability on the training text and, on the target text, the
 * EM fixed point of Saerens et al. (2002) started from it.
 */
export function estimatePriorShift(w: FastTextWeights, train: readonly EncodedText[], target: readonly EncodedText[], iterations: number): number[] {
  const base = softmaxMean(w, train).map((v) => Math.max(v, 1e-6));
  let prior = [...base];
  for (let i = 0; i < iterations; i++) prior = softmaxMean(w, target, prior, base).map((v) => Math.max(v, 1e-6));
  return prior.map((v, c) => Math.log(v / base[c]));
}

/** Each row's slot types as indices into the sorted types of all rows (the auxiliary head's targets, `ClassifierTrainConfig.auxSlots`). */
export function slotTypeTargets(rows: readonly LabelledRow[]): { types: string[]; targets: Int32Array[] } {
  const types = [...new Set(rows.flatMap((r) => (r.slots ?? []).map((s) => s.type)))].sort();
  const index = new Map(types.map((t, i) => [t, i]));
  return { types, targets: rows.map((r) => Int32Array.from(new Set((r.slots ?? []).map((s) => index.get(s.type)!))).sort()) };
}

/** Loss weight of a class ∝ (mean count / class count)^balance over `rows` (1 for all when balance is 0). */
function classWeights(rows: readonly LabelledRow[], balance: number): (label: string) => number {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  const meanCount = rows.length / counts.size;
  return (label) => (balance > 0 ? (meanCount / counts.get(label)!) ** balance : 1);
}

/**
 * Loss weight of each training row, in file order: its class weight (see
 * `ClassifierTrainConfig.classBalance` and `classBalanceScope`) × its file's weight.
 */
export function trainingRowWeights(
  train: readonly Dataset[],
  cfg: Pick<ClassifierTrainConfig, 'fileWeights' | 'classBalance' | 'classBalanceScope'>,
): number[] {
  const balance = cfg.classBalance ?? 0;
  const all = cfg.classBalanceScope === 'file' ? null : classWeights(train.flatMap((d) => d.rows), balance);
  return train.flatMap((d) => {
    const w = cfg.fileWeights?.[basename(d.file)] ?? 1;
    const cw = all ?? classWeights(d.rows, balance);
    return d.rows.map((r) => cw(r.label) * w);
  });
}

export function trainClassifier(cfg: ClassifierTrainConfig): TrainedClassifier {
  const t0 = performance.now();
  const progress = cfg.progress ?? silentProgress;
  const fs = cfg.featurizer ?? DEFAULT_FEATURIZER;
  const opts: FastTextOptions = { ...DEFAULT_FASTTEXT, ...cfg.fasttext };
  const rows: LabelledRow[] = cfg.train.flatMap((d) => d.rows);
  const rowWeight = trainingRowWeights(cfg.train, cfg);
  if (rows.length === 0) throw new Error('no training rows; check --data');
  const labels = cfg.labels ?? [...new Set(rows.map((r) => r.label))].sort();
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  for (const r of rows) {
    if (!labelIndex.has(r.label)) throw new Error(`training label "${r.label}" (${r.source}) is not one of the model's labels ${labels.join(', ')}`);
  }
  const gold = rows.map((r) => labelIndex.get(r.label)!);
  const lex = fs.lexicon ? cfg.lexicon : undefined;
  const trainF = featurizeAll(rows.map((r) => r.text), fs, lex);
  const devSets = (cfg.dev ?? []).map((d) => ({
    name: d.file,
    f: featurizeAll(d.rows.map((r) => r.text), fs, lex),
    gold: d.rows.map((r) => labelIndex.get(r.label) ?? -1),
  }));
  const minCount = cfg.minCount ?? 1;

  const classWeight = classWeights(rows, cfg.classBalanceScope === 'file' ? 0 : cfg.classBalance ?? 0);

  const dist = cfg.distill ?? null;
  const nC = labels.length;
  const smoothing = opts.labelSmoothing;
  const rowSoft: (Float32Array | undefined)[] = rows.map((r, i) => {
    const t = dist?.teacher(r.text);
    if (!t || !dist) return undefined;
    const out = new Float32Array(nC);
    for (let c = 0; c < nC; c++) out[c] = dist.alpha * t[c] + (1 - dist.alpha) * ((c === gold[i] ? 1 - smoothing : 0) + smoothing / nC);
    return out;
  });
  // Slot types present in each labelled row, for the auxiliary head (cfg.auxSlots).
  const aux = cfg.auxSlots && cfg.auxSlots.weight > 0 ? slotTypeTargets(rows) : null;
  const runTraining = (phase: string, remap: FeatureRemap, extra: readonly Example[], seed: number, member?: EnsembleMember): FastTextWeights => {
    const weightOf = member ? trainingRowWeights(cfg.train, { fileWeights: { ...cfg.fileWeights, ...member.fileWeights }, classBalance: member.classBalance ?? cfg.classBalance, classBalanceScope: member.classBalanceScope ?? cfg.classBalanceScope }) : rowWeight;
    const fv = cfg.frozenView ?? null;
    const mopts0: FastTextOptions = fv
      ? { ...opts, ...member?.fasttext, seed, dim: opts.dim + fv.words.dim, pretrainedDims: fv.words.dim, pretrainedLr: fv.lr ?? 0 }
      : { ...opts, ...member?.fasttext, seed };
    const mopts: FastTextOptions = aux ? { ...mopts0, auxLabels: aux.types.length, auxWeight: cfg.auxSlots!.weight } : mopts0;
    const view = member?.features ? featurizeAll(rows.map((r) => r.text), { ...fs, ...member.features }, lex) : null;
    const examples: Example[] = trainF.map((f, i) => ({
      ...(view ? { rows: remap.rows(view[i].hashed), count: f.hashed.length } : encode(f, remap)),
      label: gold[i], weight: weightOf[i], ...(rowSoft[i] ? { soft: rowSoft[i] } : {}), ...(aux ? { aux: aux.targets[i] } : {}),
    }));
    examples.push(...extra);
    const dev0 = devSets[0];
    const devEnc = dev0 ? dev0.f.map((f) => encode(f, remap)) : [];
    progress.start(phase, mopts.epochs);
    const w = trainFastText(examples, remap.size, labels.length, mopts, (r, weights) => {
      progress.epoch({ epoch: r.epoch, epochs: r.epochs, loss: r.loss, devAccuracy: dev0 ? accuracyOf(weights, devEnc, dev0.gold) : undefined });
    }, cfg.pretrained ? pretrainedInit(cfg.pretrained.rows, cfg.pretrained.scale, remap, mopts, labels.length, seed)
      : fv ? frozenViewInit(fv.words, remap, examples, mopts, labels.length, seed) : undefined);
    progress.stop();
    if (view) {
      // Rows outside the view never took part in training: zero them so they add nothing at inference either.
      const used = new Uint8Array(remap.size);
      for (const e of examples) for (const r of e.rows) used[r] = 1;
      for (let r = 0; r < remap.size; r++) if (!used[r]) w.emb.fill(0, r * w.dim, (r + 1) * w.dim);
    }
    return w;
  };

  // A word view (cfg.frozenView) keeps its words' rows whatever the bag's vocabulary is, in every round.
  const withViewRows = (bag: FeatureRemap): FeatureRemap =>
    cfg.frozenView ? new FeatureRemap(Uint32Array.from(new Set([...bag.ids, ...cfg.frozenView.words.ids])).sort()) : bag;
  if (cfg.frozenView && (opts.hidden > 0 || cfg.ensembleMembers || (opts.ensembleSeeds?.length ?? 0) > 1 || cfg.pretrained)) {
    throw new Error('frozenView needs a linear model (hidden 0) without ensembles or pretrained rows');
  }
  let remap = withViewRows(buildVocabulary([trainF], minCount));
  const members: readonly EnsembleMember[] | null =
    cfg.ensembleMembers && cfg.ensembleMembers.length > 1 ? cfg.ensembleMembers
    : opts.ensembleSeeds && opts.ensembleSeeds.length > 1 ? opts.ensembleSeeds.map((seed) => ({ seed }))
    : null;
  if (members && (opts.hidden > 0 || (cfg.selfTraining?.rounds ?? 0) > 0)) {
    throw new Error('fasttext.ensembleSeeds and ensembleMembers need a linear model (hidden 0) without self-training');
  }
  let weights = members
    ? concatEnsemble(members.map((m, i) => runTraining(`train seed ${m.seed} (${i + 1}/${members.length})`, remap, [], m.seed, m)))
    : runTraining('train', remap, [], opts.seed);
  const pseudoCounts: number[] = [];

  const st = cfg.selfTraining;
  if (st && st.rounds > 0 && cfg.unlabelled && cfg.unlabelled.texts.length > 0) {
    // Sentences the labelled data already holds add nothing as pseudo-labels.
    const seen = new Set(rows.map((r) => normalizeText(r.text)));
    const texts = [...new Set(cfg.unlabelled.texts)].filter((t) => {
      const n = normalizeText(t);
      return n.length > 0 && !seen.has(n);
    });
    const unlF = featurizeAll(texts, fs, lex);
    const unlTeacher = texts.map((t) => dist?.teacher(t));
    const remapAll = withViewRows(buildVocabulary([trainF, unlF], minCount));
    for (let round = 1; round <= st.rounds; round++) {
      const scorer = new FastTextScorer(weights);
      const out = new Float32Array(labels.length);
      const pseudo: Example[] = [];
      unlF.forEach((f, u) => {
        const e = encode(f, remap);
        scorer.logits(e.rows, e.count, out);
        let max = -Infinity;
        for (const v of out) max = Math.max(max, v);
        let sum = 0;
        for (const v of out) sum += Math.exp(v - max);
        const top = argmax(out);
        const p = 1 / sum; // exp(max - max) / sum
        const t = unlTeacher[u];
        if (t && dist) {
          const soft = new Float32Array(nC);
          for (let c = 0; c < nC; c++) soft[c] = dist.unlabelledAlpha * t[c] + (1 - dist.unlabelledAlpha) * (c === top ? 1 : 0);
          const best = argmax(soft);
          if (soft[best] >= st.threshold) pseudo.push({ ...encode(f, remapAll), label: best, weight: st.weight * classWeight(labels[best]), soft });
        } else if (p >= st.threshold) pseudo.push({ ...encode(f, remapAll), label: top, weight: st.weight * classWeight(labels[top]) });
      });
      pseudoCounts.push(pseudo.length);
      progress.log(`self-training round ${round}: ${pseudo.length} of ${unlF.length} unlabelled sentences pseudo-labelled (p ≥ ${st.threshold})`);
      remap = remapAll;
      weights = runTraining(`self-train ${round}/${st.rounds}`, remap, pseudo, opts.seed + round);
    }
  }

  const devAccuracy: Record<string, { unpruned: number; pruned: number; priorShifted?: number }> = {};
  // Keyed by file name, not path: the manifest should not record where the datasets were (or a temporary directory).
  for (const d of devSets) devAccuracy[basename(d.name)] = { unpruned: accuracyOf(weights, d.f.map((f) => encode(f, remap)), d.gold), pruned: 0 };

  // Pruning: keep the rows that move the logits most.
  const vocabularyRows = remap.size;
  const maxRows = cfg.maxRows ?? Infinity;
  if (remap.size > maxRows) {
    const imp = rowImportance(weights);
    const order = Array.from({ length: remap.size }, (_, i) => i).sort((a, b) => imp[b] - imp[a] || a - b);
    const keep = Int32Array.from(order.slice(0, maxRows)).sort();
    weights = selectRows(weights, keep);
    remap = new FeatureRemap(Uint32Array.from(keep, (r) => remap.ids[r]));
  }
  const devScored: ScoredSet[] = devSets.map((d) => {
    const enc = d.f.map((f) => encode(f, remap));
    devAccuracy[basename(d.name)].pruned = accuracyOf(weights, enc, d.gold);
    return { logits: logitsOf(weights, enc), gold: d.gold };
  });

  let classBias: number[] | null = null;
  if (cfg.priorShift && cfg.unlabelled && cfg.unlabelled.texts.length > 0) {
    const shift = estimatePriorShift(weights, trainF.map((f) => encode(f, remap)), featurizeAll(cfg.unlabelled.texts, fs, lex).map((f) => encode(f, remap)), cfg.priorShift.iterations ?? 30);
    const floor = cfg.priorShift.floor ?? -Infinity;
    classBias = shift.map((v) => Math.max(floor, v * cfg.priorShift!.scale));
    const bias = classBias;
    weights = { ...weights, b2: Float32Array.from(weights.b2, (b, c) => b + bias[c]) };
    for (const s of devScored) for (const l of s.logits) for (let c = 0; c < l.length; c++) l[c] += bias[c];
    for (const d of devSets) devAccuracy[basename(d.name)] = { ...devAccuracy[basename(d.name)], priorShifted: accuracyOf(weights, d.f.map((f) => encode(f, remap)), d.gold) };
    const top = labels.map((l, c) => [l, bias[c]] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
    progress.log(`label-prior shift towards ${basename(cfg.unlabelled.file)} (× ${cfg.priorShift.scale}): largest ${top.map(([l, b]) => `${l} +${b.toFixed(2)}`).join(', ')}`);
  }
  if (cfg.tuneBiases && devScored.length > 0) {
    const { bias, score } = tuneClassBiases(devScored, labels, undefined, undefined, cfg.biasObjective ?? 'mean');
    classBias = classBias ? classBias.map((b, c) => b + bias[c]) : [...bias];
    const b2 = Float32Array.from(weights.b2, (b, c) => b + bias[c]);
    weights = { ...weights, b2 };
    for (const s of devScored) for (const l of s.logits) for (let c = 0; c < l.length; c++) l[c] += bias[c];
    progress.log(`class biases tuned on dev (${labels.map((l, i) => `${l} ${bias[i] >= 0 ? '+' : ''}${bias[i].toFixed(2)}`).join(', ')}): ${cfg.biasObjective ?? 'mean'} dev macro-F1 ${score.toFixed(4)}`);
  }

  // Fold the output layer into the rows (same probabilities, numClasses − 1 numbers a row).
  if (opts.foldOutput && weights.hidden === 0 && weights.numClasses - 1 < weights.dim) weights = foldLinearOutput(weights);

  let calibration: TrainedClassifier['calibration'];
  if (cfg.calibration) {
    calibration = { ...cfg.calibration };
  } else if (devScored.length > 0) {
    const all: ScoredSet = { logits: devScored.flatMap((s) => s.logits), gold: devScored.flatMap((s) => s.gold) };
    const fit: TemperatureFit = fitTemperature(all);
    calibration = {
      temperature: fit.temperature,
      eceBefore: fit.before.ece,
      eceAfter: fit.after.ece,
      nllBefore: fit.before.nll,
      nllAfter: fit.after.nll,
      fitOn: devSets.map((d) => basename(d.name)).join(' + '),
    };
    progress.log(`temperature ${fit.temperature.toFixed(3)}: ECE ${fit.before.ece.toFixed(4)} → ${fit.after.ece.toFixed(4)}, NLL ${fit.before.nll.toFixed(4)} → ${fit.after.nll.toFixed(4)}`);
  } else {
    calibration = { temperature: 1, eceBefore: 0, eceAfter: 0, fitOn: 'none (no dev data: uncalibrated)' };
  }

  return {
    task: cfg.task,
    labels,
    featurizer: fs,
    lexicon: lex ?? null,
    options: opts,
    weights,
    remap,
    classBias,
    calibration,
    stats: {
      trainRows: rows.length,
      vocabularyRows,
      keptRows: remap.size,
      pseudoLabelled: pseudoCounts,
      seconds: (performance.now() - t0) / 1000,
      devAccuracy,
    },
  };
}
