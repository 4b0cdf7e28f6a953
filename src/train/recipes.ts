/**
 * Training settings per task, chosen on the dev sets (slurp.devel for intent;
 * meld.dev, goemotions.dev, sst3.dev and 5 % of semeval.train together for
 * sentiment). `hubnlu train` starts from these
 * and `hubnlu train-defaults` uses them unchanged for the shipped models.
 * The numbers each choice bought are in the model cards and the README.
 */
import { DEFAULT_FEATURIZER, type FeaturizerSettings } from '../model/features.js';
import type { TaskName } from '../model/types.js';
import type { FastTextOptions } from './fasttext.js';
import type { SelfTrainingOptions } from './trainer.js';

export interface Recipe {
  readonly featurizer: FeaturizerSettings;
  readonly fasttext: FastTextOptions;
  /** Applied when unlabelled text is given. */
  readonly selfTraining: SelfTrainingOptions | null;
  readonly minCount: number;
  readonly maxRows: number;
  readonly classBalance: number;
  /** Where `classBalance` counts classes: all training rows (default) or each file apart (see `ClassifierTrainConfig.classBalanceScope`). */
  readonly classBalanceScope?: 'all' | 'file';
  /** Loss weight per training file base name (default 1). */
  readonly fileWeights: Readonly<Record<string, number>>;
  readonly tuneBiases: boolean;
  /** What the bias tuning maximises over the dev sets (default `mean` macro-F1). */
  readonly biasObjective?: 'mean' | 'mean+worst';
  /** Suggested `models.unknownThreshold` recorded in the manifest. */
  readonly threshold: number;
  /** A sentiment lexicon read at training time and shipped in the model directory (see `FeaturizerSettings.lexicon`). */
  readonly lexicon: LexiconSource | null;
  /** Shift the class biases towards the label prior EM estimates on the unlabelled text (see `ClassifierTrainConfig.priorShift`). */
  readonly priorShift?: { readonly scale: number; readonly floor?: number };
  /**
   * Distillation mix when a teacher file is given (`TrainRequest.teacherFile`, `hubnlu train --teacher`;
   * see `ClassifierTrainConfig.distill` and src/train/teacher.ts).
   */
  readonly distill?: { readonly alpha: number; readonly unlabelledAlpha: number };
  /** Joint intent + slot training: an auxiliary slot-type head on the classifier (`ClassifierTrainConfig.auxSlots`); absent: off. */
  readonly auxSlots?: { readonly weight: number };
  /** Slot tagger settings (intent only; absent: the tagger's defaults, as for the English model). */
  readonly slots?: {
    readonly dim?: number;
    readonly minCount?: number;
    readonly conventions?: 'as-is' | 'hwu64' | 'hwu64+values';
    readonly featureDropout?: number;
    /** Distributional word classes as tagger features (`SlotTrainOptions.wordClasses`); absent: off. */
    readonly wordClasses?: { readonly source: string; readonly columns: readonly number[]; readonly intentGranularity: number };
    /** Joint decoding over the classifier's likely intents, recorded in the manifest (`IntentMixture`); absent: off. */
    readonly intentMixture?: { readonly top: number; readonly floor: number };
  };
}

export interface LexiconSource {
  /** npm package (a devDependency) holding the lexicon, and the file inside it (VADER's `token TAB mean TAB …` format). */
  readonly package: string;
  readonly path: string;
  /** File name in the model directory. */
  readonly file: string;
  readonly source: string;
  readonly licence: string;
  /** File format (default `vader`: `token TAB mean TAB …`; `afinn-json`: `{"word": score}`). */
  readonly format?: 'vader' | 'afinn-json';
}

export const RECIPES: Readonly<Record<TaskName, Recipe>> = {
  intent: {
    featurizer: DEFAULT_FEATURIZER,
    // lr 1 with label smoothing 0.2: +0.9 points on slurp.devel over lr 0.5 without;
    // 10 epochs is where dev accuracy stops improving.
    fasttext: { dim: 64, hidden: 0, epochs: 10, lr: 1, seed: 1, labelSmoothing: 0.2 },
    // Pseudo-labels on SLURP's unlabelled training text: +2 points on slurp.devel.
    selfTraining: { rounds: 2, threshold: 0.3, weight: 1 },
    // Issue 13: SLURP traffic has another label mix than HWU64 + MindMeld (chit-chat,
    // general_quirky, is 8 % of slurp.devel, 1 % of the training rows). EM on the
    // model's probabilities estimates the label prior of SLURP's unlabelled text;
    // 0.5 × log(that / the training prior) is added to the class biases where it is
    // positive. Raise only: SLURP has no thermostat or door traffic, so a two-sided
    // shift pushed those labels down by ~2.8 and "turn on the lights in the bedroom"
    // fell under the unknown threshold; a hub's traffic is those commands. Held-out
    // slurp.devel (fp32, seed 1): 80.75 → 81.30 % (raise only × 0.3: 81.02, × 0.7:
    // 81.11, × 1: 79.20; two-sided × 0.3: 81.48, rejected for the reason above).
    priorShift: { scale: 0.5, floor: 0 },
    // Issue 13: the mix for `hubnlu train --teacher` (soft labels from
    // scripts/teacher/teacher.py; docs/intent-distillation.md). Labelled rows train
    // towards 0.5 × teacher + 0.5 × their smoothed label; in self-training every
    // unlabelled sentence towards 0.5 × teacher + 0.5 × the student's one-hot
    // pseudo-label. Not used by train-defaults: held-out slurp.devel (fp32, after
    // the prior shift) seed 1 81.30 → 82.03 %, but seed 2 81.11 → 81.02 % and
    // seed 3 81.11 → 81.20 %: mean +0.24, within seed noise. Mixes (seed 1, another teacher
    // file): 0.3 / 0.7 81.84, 0.7 / 0.5 81.11, 0.5 / 0.8 81.93, 0.5 / 0.3 81.75 %.
    distill: { alpha: 0.5, unlabelledAlpha: 0.5 },
    minCount: 1,
    // 34k rows × (64 int8 + 4 scale + 4 remap bytes) ≈ 2.5 MB, leaving room for
    // the slot tagger under the 5 MB budget of issue 13 (50k before: 7.3 MB in
    // all). Held-out accuracy by rows kept (issue 3's recipe): 30k 80.66 %,
    // 40k 80.75 %, 50k 81.02 %, all 82k 81.11 % (fp32, unpruned). 31.5k since the
    // slot tagger's word classes (below) took ~0.23 MB of the budget.
    maxRows: 31_500,
    classBalance: 0,
    fileWeights: {},
    tuneBiases: false,
    // Rejects ~95 % of random gibberish, ~13 % of slurp.devel (60 % of which
    // was wrong anyway); see "Choosing the unknown threshold" in the model card.
    threshold: 0.4,
    lexicon: null,
    // Slot tagger buckets seen ≥ 3 times (default 2): 68k → 44k rows on the
    // shipped data, 3.5 → 2.3 MB, for the 5 MB budget.
    // Issue 13: MindMeld's `time` slots ("tomorrow", "on monday", "right now", "tomorrow morning") are
    // rewritten into HWU64/SLURP's date / timeofday / time convention before the tagger trains
    // (src/train/slot-conventions.ts). Held-out slurp.devel slot F1 (int8, the held-out pipeline's
    // intents): seed 1 72.86 → 73.99, seed 2 72.68 → 74.56; with gold intents 73.59 → 75.59, 73.43 → 75.31.
    // Feature dropout 0.3 instead of the tagger's default 0.2, on top: seeds 1 / 2 / 3 73.99 → 74.38,
    // 74.56 → 75.33, 73.42 → 74.25.
    // Issue 13: distributional word classes as tagger features (scripts/word-classes/: PPMI-SVD vectors of
    // every English training text in the datasets, spherical k-means at 64 / 256 / 1024 classes, the 10,250
    // words seen ≥ 10 times; shipped as slots.classes, ~72 KB): the word's class at each granularity, its
    // neighbours' coarse classes and the intent with its coarse class, so names and places the labelled rows
    // never had ("email *tyson*", "weather in *delhi*") share features with those they had. Held-out slot F1
    // seeds 1 / 2 / 3 (int8, intents of the held-out seed-1 pipeline): 74.38 / 75.33 / 74.25 (mean 74.65) →
    // 74.69 / 76.37 / 75.67 (mean 75.58); docs/slot-tagger.md has the variants.
    // Issue 13, joint intent + slots: the tagger decodes its emission scores mixed over the classifier's top 3
    // intents by probability, the rest of the mass on the scores with no intent (`slots.intentMixture`; the intent
    // itself is unchanged). Held-out slot F1 seeds 1 / 2 / 3: 74.69 / 76.18 / 75.66 → 75.20 / 76.07 / 76.65 (mean
    // 75.51 → 75.97; seven seeds 75.80 → 76.20). The runtime runs it in one pass of the tagger (mixtureTaggerGraph):
    // whole-pipeline p99 and e2e CPU a message within the noise of the runs without it (docs/slot-tagger.md).
    slots: {
      minCount: 3,
      conventions: 'hwu64',
      featureDropout: 0.3,
      wordClasses: { source: 'scripts/word-classes/en.tsv', columns: [1, 2, 3], intentGranularity: 0 },
      intentMixture: { top: 3, floor: 0.05 },
    },
  },
  sentiment: {
    // Raw-text cues (punctuation, caps, elongation, emoticons, emoji), negation
    // scope and the VADER lexicon. Mean macro-F1 (meld.dev / goemotions.dev) over
    // seeds 1 and 2, fp32 after bias tuning: plain n-grams 0.452 / 0.693;
    // + surface + negation 0.469 / 0.713; + lexicon 0.477 / 0.713; + semeval
    // weight 1 (below) 0.482 / 0.709. Surface alone 0.470 / 0.703, negation alone
    // (seed 1) 0.456 / 0.684. cueWeight 5 instead of 2: no better (0.479 / 0.713).
    featurizer: { ...DEFAULT_FEATURIZER, surface: true, negation: true },
    // Three classes: 8 dimensions are plenty (16 and 32 measured no better), and
    // small rows leave room for more n-grams in the size budget. (Folded, 16
    // would ship the same size; issue 13, all four dev sets, mean of seeds 1–3,
    // worst / mean macro-F1: 8 dim. 0.464 / 0.596, 16 dim. 0.465 / 0.596.) Three epochs:
    // goemotions.dev peaks there and falls after (0.69 at 3, 0.63 at 10).
    // averageLastEpoch (Polyak averaging over the last epoch's steps): int8
    // macro-F1 meld.dev / goemotions.dev for seeds 1, 3, 5 went from 0.4785 /
    // 0.7047, 0.4918 / 0.7021, 0.4714 / 0.7126 (mean 0.4806 / 0.7065) to
    // 0.4861 / 0.7058, 0.4921 / 0.7006, 0.4761 / 0.7131 (mean 0.4848 / 0.7065):
    // all three seeds meet both targets (one did without). A two-seed ensemble
    // joined into one 16-dimension model (ensembleSeeds [1, 2], 300k rows to fit
    // 8 MB) measured 0.4776 / 0.7113 alone and 0.4831 / 0.7102 with averaging
    // (seed pairs 3+4: 0.4843 / 0.7094, 5+6: 0.4728 / 0.7158): no better on meld
    // and 0.8 MB larger, so not used.
    // foldOutput: the 8 × 3 output layer is folded into the rows, which ship as
    // 2 numbers each (the zero-sum logit plane) instead of 8, with the same
    // probabilities: 6.52 → 4.1 MB with 400k rows (src/train/fasttext.ts, foldLinearOutput).
    // Issue 13, third round (mean of seeds 1–3; the card): ensembles in one table
    // (3 seeds, 3 recipes, a no-character-n-gram feature view via ensembleMembers),
    // a hidden ReLU layer and 2^23 buckets measured no better than seed noise.
    // Fourth round: a skip-gram word view pre-trained on all the unlabelled text (trainer option
    // frozenView; frozen, slowly learning, or lexicon-retrofitted): 3-seed worst / mean 0.465 / 0.594-0.596, no better.
    fasttext: { dim: 8, hidden: 0, epochs: 3, lr: 0.5, seed: 1, labelSmoothing: 0, averageLastEpoch: true, foldOutput: true },
    selfTraining: null,
    minCount: 2,
    // 400k rows × (2 int8 + 4 scale + 4 remap bytes) ≈ 4.0 MB (folded; 6.4 MB unfolded).
    maxRows: 400_000,
    // Issue 13: balancing each file's own label mix (classBalanceScope 'file')
    // at 0.5 with 16 dimensions, mean of seeds 1–3: worst / mean 0.469 / 0.598
    // (shipped 0.464 / 0.596), inside seed noise, sst3.dev accuracy 62.8 → 61.0 %
    // (below the 62 % target): not used. Global balance 0.5: see the card.
    classBalance: 0,
    // Film reviews (sst3) are further from spoken dialogue than Reddit comments:
    // down-weighted. Semeval was at 0.5 for plain n-grams; with the raw-text cues
    // (tweets carry most of the training data's "!", emoticons and caps) full
    // weight measured meld.dev 0.482 vs 0.477 (mean of seeds 1, 2), goemotions.dev
    // 0.709 vs 0.713: within seed noise (±0.01), chosen for meld (the binding target).
    // Issue 13: sst3.train back to full weight. All four dev sets, fp32 after the
    // bias tuning, seed 1 (meld / goemotions / sst3 / semeval held-out macro-F1;
    // sst3.dev accuracy): weight 0.3 0.463 / 0.708 / 0.538 / 0.648, 57.9 %
    // (worst 0.463, mean 0.589); weight 1 0.469 / 0.700 / 0.561 / 0.644, 62.5 %
    // (worst 0.469, mean 0.594); weight 2 0.469 / 0.697 / 0.568 / 0.639, 64.1 %
    // (0.469 / 0.593). Worst and mean both rise; goemotions.dev pays 0.008.
    fileWeights: { 'semeval.train.jsonl': 1, 'sst3.train.jsonl': 1 },
    // Per-class offsets tuned on all four dev sets (meld.dev, goemotions.dev,
    // sst3.dev, 5 % of semeval.train) for their mean macro-F1: tuning on
    // meld.dev + goemotions.dev alone cost sst3.dev. Mean + worst-case was
    // measured too (worst 0.487, mean 0.576 vs 0.463 / 0.589): meld.dev is always
    // the worst set, so that objective tunes for meld.dev again (issue 13; the card).
    tuneBiases: true,
    biasObjective: 'mean',
    threshold: 0,
    lexicon: {
      package: 'vader-sentiment',
      path: 'vader_lexicon.txt',
      file: 'lexicon.json',
      source: 'VADER lexicon (Hutto & Gilbert 2014) as shipped in vaderSentiment-js, npm vader-sentiment 1.1.3; word entries only',
      licence: 'Apache-2.0 (vaderSentiment-js, Copyright 2018 Comcast Cable Communications Management, LLC); the VADER lexicon itself is MIT (C.J. Hutto)',
    },
  },
};
