/**
 * Reproduces the shipped models (`npm run train:models` → `hubnlu
 * train-defaults`), seeded, from the public datasets:
 *
 * intent  1. held-out run: train on hwu64 + mindmeld (+ SLURP unlabelled text
 *            for self-training), evaluate on slurp.devel with the full
 *            pipeline, fit the temperature there;
 *         2. shipped run: the same recipe on hwu64 + mindmeld + slurp.devel,
 *            with step 1's temperature (it has no held-out data left), and
 *            step 1's numbers recorded as its honest accuracy.
 * sentiment: train on goemotions + semeval + sst3 (5 % of semeval held out); tune class offsets and the
 *            temperature on meld.dev + goemotions.dev + sst3.dev + the semeval part (never train on meld).
 * languages: de, fr, es, zh-cn (src/train/languages.ts), after the English models;
 *            `only: 'de'` trains one language, `only: 'intent' | 'sentiment'` no language.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { datasetsDir } from '../data/datasets-dir.js';
import { renderModelCard, REPRODUCE_DATASETS, type CardExtras } from './model-card.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';
import { silentProgress, type ProgressReporter } from './progress.js';
import { formatTrainSummary, summarizeReport, trainModel, type TrainResult } from './pipeline.js';
import { ModelRegistry } from '../model/registry.js';
import { formatThresholdCurve, thresholdCurve, type ThresholdPoint } from '../eval/threshold.js';
import { readRows, type LabelledRow } from '../data/rows.js';
import { evaluate } from '../eval/evaluate.js';
import { RECIPES } from './recipes.js';
import { trainLangid, type LangidResult } from './langid.js';
import { haCommandSource } from './langid-commands.js';
import { LANGUAGES, trainLanguage, type Language, type LanguageResult } from './languages.js';

export interface DefaultsOptions {
  /** Dataset directory (holding intent/ and sentiment/); absent: `$HUBNLU_DATASETS` (datasetsDir). */
  readonly datasets?: string;
  /** Where the model directories go (default `<package>/models`). */
  readonly outDir?: string;
  readonly seed?: number;
  /** One English task, or one language (its intent and sentiment models). */
  readonly only?: 'intent' | 'sentiment' | Language | 'langid';
  readonly progress?: ProgressReporter;
  readonly version?: string;
}

export interface DefaultsResult {
  readonly intent?: { readonly heldOut: TrainResult; readonly shipped: TrainResult };
  readonly sentiment?: TrainResult;
  readonly langid?: LangidResult;
  /** The non-English models (models/<lang>/intent, models/<lang>/sentiment). */
  readonly languages?: Readonly<Partial<Record<Language, LanguageResult>>>;
  readonly seconds: Readonly<Record<string, number>>;
}

const INTENT_LIMITS = [
  'Trained on read and typed requests in English (HWU64, SLURP, MindMeld). Other languages, and long or multi-request utterances, are out of scope.',
  '`general_quirky` (chit-chat) and `qa_factoid` overlap heavily; most errors on slurp.devel are between them and the other question labels.',
  'Labels with no training rows cannot be produced: `general_greet`, `cooking_query`, `music_dislikeness` appear in slurp.devel but not in hwu64/mindmeld (they do appear in the shipped model\'s extra slurp.devel rows).',
  'There is no out-of-domain class: unrelated input is rejected only through the calibrated confidence and `models.unknownThreshold`. Factual questions ("what\'s the capital of peru") are in-domain here (`qa_factoid`).',
  'The shipped model\'s temperature was fit on slurp.devel for the held-out run of the same recipe, since the shipped model trains on slurp.devel.',
];

const INTENT_SIZE_NOTES: readonly string[] = [
  `Issue 13 asks for at most 5 MB per shipped model; issue 3's model was 7.30 MB (classifier 3.62 MB with 50,000 rows, slot tagger 3.68 MB with every bucket seen twice). Two cuts, nothing else changed:`,
  '',
  `- classifier rows kept: 50,000 → ${RECIPES.intent.maxRows.toLocaleString('en')} (pruned by importance; held-out slurp.devel accuracy by rows kept, measured for issue 3: 30k 80.66 %, 40k 80.75 %, 50k 81.02 %, all 82k 81.11 %);`,
  `- slot tagger buckets: kept when seen at least ${RECIPES.intent.slots?.minCount ?? 2} times instead of 2 (on the shipped data 68,110 → 44,368 rows; ≥ 4 would keep 33,843).`,
  '',
  'The held-out table above is this recipe\'s; issue 3\'s recipe scored 81.02 % and slot F1 0.7266 there, the size cuts alone 80.66 % and 0.7256.',
  '',
  'Since the slot tagger\'s word classes (issue 13, "What was tried" below) the classifier keeps 31,500 rows instead of 34,000, to make room for them (the class table `slots.classes`, 72 KB, and about 3,000 more tagger rows: 0.23 MB): held-out slurp.devel accuracy 81.30 % with either (fp32 after pruning, before the prior shift: 80.75 → 80.66 %); total 4.89 → 4.95 MB.',
];

const INTENT_TRIED: readonly string[] = [
  'All on the held-out run (trained on hwu64 + mindmeld + SLURP\'s unlabelled text, evaluated on slurp.devel), seed 1, the TypeScript fp32 forward pass after pruning to 34,000 rows (the shipped int8 graph scores within 0.1 point of it). Short runs (25–90 s each on the shared machine), logged as they ran:',
  '',
  '| change to the recipe | slurp.devel accuracy |',
  '|---|---|',
  '| none (the size-cut recipe before issue 13\'s model work) | 80.75 % |',
  '| **label-prior shift towards SLURP\'s unlabelled text, raise only, 0.5 × log ratio (shipped)** | **81.30 %** (seed 2: 80.57 → 81.11 %) |',
  '| the same, raise only × 0.3 / × 0.7 / × 1 | 81.02 / 81.11 / 79.20 % |',
  '| two-sided shift × 0.3 (labels also pushed down) | 81.48 % (seed 2: 80.57 → 81.57 %), not shipped: see below |',
  '| two-sided × 0.2 / × 0.45 / × 1 (the full EM estimate) | 81.39 / 81.11 / 76.46 % |',
  '| two-sided, from temperature-calibrated probabilities, × 0.5 | 81.30 % |',
  '| two-sided × 0.3, also applied to the self-training pseudo-labels | 80.66 % |',
  '| teacher: 3-seed ensemble (mean of probabilities) | 80.38 % (members 80.75 / 80.57 / 80.57 %) |',
  '| teacher: no pruning (81,759 rows, a 5.9 MB classifier) | 81.11 % |',
  '| self-training: 3 rounds instead of 2 | 80.57 % |',
  '| self-training: pseudo-label threshold 0.5 instead of 0.3 | 79.38 % |',
  '| 15 epochs instead of 10 | 79.84 % |',
  '| SNIPS GetWeather → weather_query and PlayMusic → play_music (3,949 rows) as a third training file (int8 pipeline) | 81.02 % (macro-F1 0.6295 → 0.6071) |',
  '| skip-gram rows pre-trained on 39k sentences (hwu64, mindmeld, SLURP unlabelled, snips; dim 64, 5 epochs, 94 s), as the initial rows, × 1 / 0.2 / 0.05 / 3 | 79.20 / 80.29 / 80.29 / 77.10 % |',
  '| the slot tagger\'s word classes (scripts/word-classes/: each word\'s 256- and 1024-class) added to the bag as pseudo-words, so they enter with their character n-grams (31,500 rows; a quick form of the issue\'s cluster-id features, 1 Dec 2026, load 2–4) | 80.11 % (seed 2: 79.74, seed 3: 79.93 %, against 81.30 / 81.11 / 81.11 % without; classifier training 65–79 s instead of 33 s) |',
  '',
  'Why the prior shift: slurp.devel\'s label mix differs from the training files\'. `general_quirky` (open chit-chat: "what is your favorite color", "the cosmos") is 91 of its 1,096 rows but 169 of 14,275 training rows, so the model almost never says it. The EM estimate on the unlabelled SLURP text (Saerens et al. 2002) says which labels that traffic holds more of; at full strength it over-corrects (the model is not calibrated for it). The two-sided shift scored best on slurp.devel but pushed every label SLURP lacks down by about 2.8 (the thermostat and door labels exist only in MindMeld): "turn on the lights in the bedroom" fell below the unknown threshold, and a hub\'s traffic is those commands, so the shipped shift only raises labels (floor 0). Macro-F1 gains more than accuracy (0.576 → 0.630 held-out, int8), since rare labels start being predicted.',
  '',
  'Pre-trained skip-gram rows are washed out or hurt: the classifier\'s high learning rate (1, 10 epochs) re-learns the rows from the labels. The 3-seed fastText ensemble above was no better than one model, so it was not used as a teacher. The word classes that help the slot tagger (below) cost the classifier 1.2 points as extra bag features (three-seed mean 81.17 → 79.93 %): a sentence\'s class pseudo-words outnumber its words and dilute the averaged bag. A pre-trained vector view beside the bag was measured afterwards (next paragraph).',
  '',
  '**Pre-trained word view (measured, not shipped; 1 Dec 2026).** The sentiment model\'s `frozenView` (model card of models/sentiment, round 4) on the held-out intent run: fastText skip-gram vectors (32 dimensions, 5 epochs) pre-trained on the same unlabelled English corpus (`scripts/sentiment-experiments/pretrain.mjs`: every training text in the datasets, no dev set; sentences slurp.devel holds also removed: 127,702 sentences, 88,504 words, 2.9 min on one core), each word\'s vector at a fixed length in 32 extra dimensions of its unigram\'s row, frozen (lr 0) or learning at 0.1 × the rows\' rate; self-training now keeps the view\'s rows in every round (`trainClassifier`, a recipe option, off by default). `scripts/intent-experiments/frozen-view.mjs`, fp32 after pruning and the prior shift as above (it reproduces the shipped seed 1, 81.30 %), load 1.0–3.0, classifier training 46–80 s against 36 s without the view:',
  '',
  '| word view | seed 1 | seed 2 | seed 3 | mean |',
  '|---|---|---|---|---|',
  '| none (shipped recipe) | 81.30 % | 81.11 % | 81.11 % | 81.17 % |',
  '| every corpus word (157,837 rows before pruning), length 16, frozen | 67.24 % | 68.34 % | 68.80 % | 68.13 % (unpruned 80.66 / 79.65 / 80.29 %) |',
  '| the same, lr 0.1 × | 69.07 % | | | (unpruned 79.84 %) |',
  '| only the words of hwu64, mindmeld and SLURP\'s unlabelled text, length 4, frozen | 81.57 % | 81.11 % | 81.20 % | 81.29 % |',
  '| the same, length 2 / 8 / 16 | 81.02 / 81.30 / 80.93 % | | | |',
  '| the same, length 4, lr 0.1 × | 81.75 % | 81.11 % | 81.66 % | 81.51 % |',
  '| the same at the shipped size: 64 + 32 dimensions, 21,000 rows, lr 0.1 × | 81.75 % | 80.93 % | 81.84 % | 81.51 % |',
  '| the same at the shipped size: 32 + 32 dimensions, 31,500 rows, frozen / lr 0.1 × | 81.02 / 81.57 % | | | |',
  '',
  'Not kept: the best forms gain +0.34 points on the three-seed mean (seed 2 gains nothing), within the ±0.5 seed noise and far from the 83 % target. The view must hold only the intent texts\' words: with every corpus word, pruning to 31,500 rows keeps the view\'s rows of words no intent sentence uses (their fixed-length vectors move the logits more than most trained rows) and drops the bag\'s, 13 points lost. An intent row does not fold (76 labels), so the view\'s 32 dimensions widen every row: 64 + 32 dimensions at 31,500 rows would ship about 1 MB more (5.95 MB, over the 5 MB budget), hence the same-size rows above; and the 2.9-minute pre-training would put `train-defaults`\' intent training over 3 minutes unless the vectors were shipped as an input file. Skip-gram similarity adds little here for the same reason as for sentiment: the 14k labelled rows and SLURP\'s 11k unlabelled sentences already teach the bag the words slurp.devel uses.',
  '',
  '**Distillation from a torch teacher (measured, not shipped).** Teacher: a word CNN (widths 1–3) plus a hashed character 3/4-gram bag trained with torch (`scripts/teacher/teacher.py`), retrained once with soft pseudo-labels on SLURP\'s unlabelled text; alone it scores 77.92 % on slurp.devel. The student trains each labelled row towards 0.5 × teacher + 0.5 × its smoothed label and, in self-training, every unlabelled sentence towards 0.5 × teacher + 0.5 × its own one-hot pseudo-label (`hubnlu train --teacher FILE`; docs/intent-distillation.md). Same held-out setting as above (fp32, after the prior shift):',
  '',
  '| run | seed 1 | seed 2 | seed 3 |',
  '|---|---|---|---|',
  '| shipped recipe, no teacher | 81.30 % | 81.11 % | 81.11 % |',
  '| distilled, teacher file as `--teacher` reads it (top 8 labels a sentence) | 82.03 % | 81.02 % | 81.20 % (mean +0.24) |',
  '| distilled, the teacher\'s full probabilities | 82.21 % | 81.11 % | 81.11 % (mean +0.30) |',
  '| distilled from the teacher without its self-training round (76.92 % alone) | 82.21 % | 81.93 % | |',
  '| mixes 0.3 / 0.7, 0.7 / 0.5, 0.5 / 0.8, 0.5 / 0.3 (labelled / unlabelled); teacher at temperature 2; both teachers averaged | 81.84 / 81.11 / 81.93 / 81.75 %; 81.84 %; 82.30 % | | |',
  '',
  'Seed 1 gains 0.7–0.9 points with every teacher, but seeds 2 and 3 gain −0.1 to +0.1 with this teacher (+0.8 for seed 2 with the one without its self-training round): +0.2 to +0.3 on average over the three seeds, within the ±0.5 seed noise, so the shipped recipe does not distil (the prior shift above was kept because it raised both seeds measured). The teacher is 3–4 points weaker than the student, which is the likely limit; next: a stronger teacher (a small transformer, more English text), with the same file format. Joint intent + slot training was measured afterwards (below): it did not help.',
  '',
  '**Slot tagger (issue 13).** Held-out slot F1 on slurp.devel (int8 view of the tagger in TypeScript, the arithmetic of slots.onnx; tagger trained on hwu64 + mindmeld; the intents the held-out pipeline passes it, null below the unknown threshold; `scripts/slot-experiments/`). Error analysis of the shipped recipe (seed 1, gold intents, 1,097 gold slots): 167 missed spans (person 31, place_name 28, event_name 21, weather_descriptor 14: names and places never seen in training), 90 spurious, 69 boundary errors, 49 wrong types, 33 wrong type and boundary. The largest systematic error: `date` called `time` in weather and calendar questions ("will it rain *tomorrow*", "weather *on tuesday*": 20 of the type errors), and "now" tagged as a `time`. Cause: MindMeld\'s converted rows mark every time expression as one `time` slot ("tomorrow", "on monday", "right now", "tomorrow morning"), HWU64 and SLURP split them into `date` / `timeofday` / `time` and leave "now" and a leading "on" / "at" out. The shipped recipe now rewrites MindMeld\'s `time` slots into that convention before training (src/train/slot-conventions.ts, rules read off HWU64\'s annotations; only training rows change):',
  '',
  '| tagger recipe | seed 1 | seed 2 | seed 1, gold intents | seed 2, gold intents |',
  '|---|---|---|---|---|',
  '| before issue 13\'s slot work | 72.86 | 72.68 | 73.59 | 73.43 |',
  '| MindMeld time slots in HWU64\'s convention | 73.99 | 74.56 | 75.59 | 75.31 |',
  '| the same + MindMeld rows given the values HWU64 labels consistently in rows of their intent with a type MindMeld never annotates ("rain", "temperature", "umbrella" in weather questions) | 74.28 | 74.41 | 75.69 | 75.49 |',
  '| the same, feature dropout 0.3 instead of 0.2 | 74.38 | 75.33 | 75.57 | 76.34 |',
  '| **the same + distributional word classes as features (shipped; seed 3: 74.25 → 75.67)** | **74.69** | **76.37** | 75.78 | 77.52 |',
  '| before, the top intent passed even below the unknown threshold | 72.45 | 72.55 | | |',
  '| before, intent scenario features too (`scenario: true`) | 72.43 | | 73.50 | |',
  '| before, + 1,368 SNIPS GetWeather / PlayMusic rows whose slots all map (city/country/state → place_name, artist → artist_name, genre, track, …) | 72.68 | | 73.13 | |',
  '',
  'The convention fix raised both seeds by 1.1 and 1.9 points; feature dropout 0.3 on top of it raised all three seeds measured by 0.4 to 0.8 (seed 3: 73.42 → 74.25), so both are shipped; the other variants stayed within the seed noise (about ±0.5–1 point). With those two the held-out slot F1 was 0.7438 (seed 1) and the tagger scored 0.746–0.763 with gold intents; the rest of the gap was intent errors and names and places the training data never had.',
  '',
  '**Word classes for the slot tagger (issue 13, shipped).** Names and places the labelled rows never had are the largest group of missed slots, so the tagger now also sees distributional word classes learned from every English training text in the datasets (132,611 sentences: hwu64, mindmeld, snips, SLURP\'s unlabelled text, goemotions / semeval / sst3 train; never a dev set): PPMI over ±2 word contexts, SVD to 100 dimensions, spherical k-means at 64 / 256 / 1024 classes for the 10,250 words seen ≥ 10 times (`scripts/word-classes/`, 50 s, reproducible byte for byte). Features: the word\'s class at each granularity, its neighbours\' 64-classes, the intent with its 64-class; unknown words share a `rare` class. The table ships as `slots.classes` (words as 32-bit hashes, 72 KB). Held-out slot F1, seeds 1 / 2 / 3 with the held-out seed-1 pipeline\'s intents: 74.38 / 75.33 / 74.25 (mean 74.65) → 74.69 / 76.37 / 75.67 (mean 75.58, +0.93; with gold intents 75.49 → 76.74); the variants measured (other granularities, table sizes, class bigrams, with and without the intent × class feature, which carries the gain) gained 0.05–1.06 on the mean, none clearly more than the shipped one (intent × 256-class: 75.71, for 800 more rows; the classes of the words at ±2: 76.10 on seeds 1–3 but 75.92 against the shipped 75.81 over seeds 1–5): docs/slot-tagger.md. No extra training time (35–46 s of CPU a tagger either way). The issue\'s 0.75 is met on the three-seed mean (0.7558) but not by seed 1 alone (0.7469 through the full int8 pipeline; 0.7520, the held-out table above, with the slot mixture below).',
  '',
  '**Joint intent + slots (1 Dec 2026; the slot mixture shipped 2 Dec 2026).** The one idea of the issue not tried before, on the whole held-out pipeline (`scripts/intent-experiments/joint-train.mjs`: train-defaults\' held-out run with seed N for classifier and tagger, int8 through onnxruntime; seed 1 reproduced the table above as it was without the slot mixture, 81.30 % and 0.7469). Weights were chosen on tune splits, never on slurp.devel: 10 % of hwu64 + mindmeld held out (stratified, seed N) of a pipeline trained on the rest, so its predictions there are cross-fitted. Details and every variant: docs/slot-tagger.md ("Issue 13, third pass").',
  '',
  '| idea | accuracy, seeds 1 / 2 / 3 (mean) | slot F1, seeds 1 / 2 / 3 (mean) |',
  '|---|---|---|',
  '| shipped pipeline | 81.30 / 81.11 / 81.11 % (81.17) | 74.69 / 76.18 / 75.66 (75.51) |',
  '| joint decoding over the top 3 intents: log p(intent) + 0.2 × the CRF log-probability of the tagger\'s best path under it + 0.5 × log P(its slot types given the intent) | 79.93 / 79.65 / 80.57 % (80.05) | 74.65 / 76.27 / 75.95 (75.62) |',
  '| stacking: a re-ranker over the top 3 trained on the cross-fitted tune rows, features (intent, slot type the tagger finds with no intent) | 79.93 / 79.84 / 79.84 % (79.87) | 74.26 / 76.21 / 75.53 (75.33) |',
  '| stacking in the bag: a pseudo-word per slot type appended to the sentence (training: gold types, each dropped with p 0.3; test and unlabelled text: the tagger\'s, with no intent) | 77.92 / 77.28 / 77.01 % (77.40) | |',
  '| joint training: an auxiliary slot-type head on the classifier\'s sentence vector, weight 0.3 (`auxSlots`; the tune splits chose none) | 80.84 / 80.57 / 79.93 % (80.45) | |',
  '| **slot decoding over the likely intents (shipped): emission scores mixed over the top 3 intents by probability, the rest on no intent (`slots.intentMixture`), intent unchanged** | unchanged | **75.20 / 76.07 / 76.65 (75.97; seeds 1–7 75.80 → 76.20, six of seven up)** |',
  '',
  'Every re-scoring of the intent by slot evidence gained on the tune splits (HWU64 / MindMeld, whose slot conventions the tagger learned) and lost 0.4–2.5 points on slurp.devel, where the largest error group (chit-chat against `qa_*` questions) holds few slots. The slot mixture raised slot F1 by 0.46 on the three-seed mean (seed 1 0.7469 → 0.7520; +0.40 over seven seeds), not beyond the ±0.5 seed noise and not on the tune splits. At first it ran the tagger once per part, about twice the tagger\'s cost (whole-pipeline p99 0.27–0.30 → 0.49–0.86 ms in `bench:models`), and was not shipped. The runtime now decodes it in one pass (the tagger file rewritten in memory: each token\'s intent-independent features summed once, each part adding its 4 intent ids, one output layer a token; the file itself unchanged): the tagger costs 77 µs instead of 123 µs a sentence with 2–4 parts (61 µs without the mixture), the whole pipeline about 12–20 µs of CPU more an utterance one at a time on the `bench:models` texts (about +10 %) and nothing measurable in batches of 8, p99 and `bench:e2e` CPU a message within the noise of runs without it (2 Dec 2026, load 1–3.6; numbers in docs/slot-tagger.md, "fourth pass"). So it is shipped (`slots.intentMixture` { top 3, floor 0.05 } in the manifest): held-out slot F1 0.7469 → 0.7520, intent accuracy unchanged.',
  '',
  'Accuracy by scenario on slurp.devel, before → after the prior shift (fp32, seed 1): general 29.0 → 30.1 % (93 rows: the largest error source, 65 of the 205 errors left), qa 82.6 % (138), calendar 85.9 → 86.3 % (227), play 89.2 % (157), email 90.4 → 91.3 % (104), weather 90.4 → 91.5 % (94), news 78.9 → 82.5 % (57), lists 85.1 % (47), datetime 85.7 → 83.3 % (42), social 92.9 % (28), transport 87.0 % (23), recommendation 70.0 → 75.0 % (20), cooking 66.7 % (18: `cooking_query` has no training rows), alarm 81.3 % (16), music 53.3 % (15: `music_dislikeness` has none), iot 100 % (10), takeaway 85.7 % (7). `general_quirky` and the `qa_*` questions are one blurred region: moving the boundary towards chit-chat costs factoid questions.',
];

const SENTIMENT_LIMITS = [
  'Trained on tweets, Reddit comments and film reviews; spoken dialogue (meld.dev) is the closest register to a home assistant and the hardest set.',
  'Three classes only; sarcasm and mixed feelings are usually read as their surface polarity.',
  'Class offsets (three numbers) and the temperature were tuned on the four dev sets together (meld.dev, goemotions.dev, sst3.dev, 5 % of semeval.train), so the numbers on them are slightly optimistic; no recipe choice was made on one set alone.',
  'meld.dev (GPL-3.0) was used for evaluation and tuning only, never as training data.',
  'The tuned offsets move probability slightly away from `neutral`; plain statements such as "the meeting is at three" can come out mildly positive. Short commands stay neutral (see the table above). Use `scores`, not just `label`, when a neutral reading matters.',
  'The raw-text cues (`!`, caps, emoticons, emoji) need the sentence as typed or transcribed: a speech recogniser that outputs no punctuation gives the model less to go on.',
  'Recipe choices (features, file weights) were compared on meld.dev and goemotions.dev over two seeds; differences under about 0.01 macro-F1 are within seed noise.',
];

/** Share of semeval.train held out as the fourth sentiment dev set (stratified, seeded). */
const SEMEVAL_HOLDOUT = 0.05;

/** Issue-13 acceptance targets for the sentiment model (the shipped int8 model). */
const SENTIMENT_TARGETS: readonly { what: string; file: string; metric: 'accuracy' | 'macro_f1'; min: number }[] = [
  { what: 'sst3.dev accuracy', file: 'sst3.dev.jsonl', metric: 'accuracy', min: 0.62 },
  { what: 'meld.dev macro-F1', file: 'meld.dev.jsonl', metric: 'macro_f1', min: 0.5 },
  { what: 'goemotions.dev macro-F1', file: 'goemotions.dev.jsonl', metric: 'macro_f1', min: 0.72 },
  { what: 'short commands called neutral', file: 'commands', metric: 'accuracy', min: 0.8 },
];

/** Intent labels whose requests are not neutral statements (chit-chat, praise, likes). */
const NOT_NEUTRAL_INTENT = /^(general_|music_likeness|music_dislikeness)/;

/** Short requests from an intent file (≤ 8 words, not chit-chat or likes), labelled `neutral`. */
export function neutralCommandRows(file: string): LabelledRow[] {
  return readRows(file, 'intent')
    .rows.filter((r) => !NOT_NEUTRAL_INTENT.test(r.label) && r.text.trim().split(/\s+/).length <= 8)
    .map((r) => ({ text: r.text, label: 'neutral', slots: [], source: r.source }));
}

const SENTIMENT_TRIED: readonly string[] = [
  'Size: the 8 × 3 output layer is folded into the rows (`foldOutput`), which ship as 2 int8 numbers each instead of 8 with the same probabilities: 6.52 → about 4.1 MB, nothing else changed.',
  '',
  'Class offsets, all measured on the same trained weights (issue 3\'s recipe, seed 1, 5 % of semeval.train held out; fp32 TypeScript forward pass; accuracy / macro-F1):',
  '',
  '| offsets chosen for | meld.dev | goemotions.dev | sst3.dev | semeval held-out | worst / mean macro-F1 | short commands neutral |',
  '|---|---|---|---|---|---|---|',
  '| none | 0.488 / 0.458 | 0.726 / 0.714 | 0.556 / 0.526 | 0.675 / 0.631 | 0.458 / 0.582 | 91.8 % |',
  '| mean macro-F1 of the four (shipped) | 0.486 / 0.463 | 0.720 / 0.708 | 0.579 / 0.538 | 0.678 / 0.648 | 0.463 / 0.589 | 90.6 % |',
  '| mean + worst-case macro-F1 of the four | 0.518 / 0.487 | 0.703 / 0.697 | 0.523 / 0.491 | 0.653 / 0.629 | 0.487 / 0.576 | 93.3 % |',
  '',
  'Issue 3 tuned the offsets on meld.dev + goemotions.dev (shipped int8: meld.dev 0.4861, goemotions.dev 0.7058, sst3.dev accuracy 54.41 %). meld.dev is the worst set under every choice, so a worst-case objective tunes for meld.dev again and costs the other three; the mean of the four is shipped.',
  '',
  'Short commands were already neutral about nine times in ten, so no extra neutral calibration was added.',
  '',
  'Recipe changes, each chosen on all four dev sets together (fp32 TypeScript forward pass after the trainer\'s offset tuning, seed 1; macro-F1 per set, sst3.dev accuracy; short runs of about a minute each on the shared machine):',
  '',
  '| change | meld.dev | goemotions.dev | sst3.dev F1 / acc | semeval held-out | worst / mean | short commands neutral |',
  '|---|---|---|---|---|---|---|',
  '| none (sst3.train weight 0.3, issue 3) | 0.463 | 0.708 | 0.538 / 57.9 % | 0.648 | 0.463 / 0.589 | 90.6 % |',
  '| **sst3.train weight 1 (shipped)** | 0.469 | 0.700 | 0.561 / 62.5 % | 0.644 | **0.469 / 0.594** | 89.9 % |',
  '| sst3.train weight 1.5 | 0.471 | 0.696 | 0.567 / 63.7 % | 0.640 | 0.471 / 0.594 | 89.5 % |',
  '| sst3.train weight 2 | 0.469 | 0.697 | 0.568 / 64.1 % | 0.639 | 0.469 / 0.593 | 88.8 % |',
  '| sst3 1 + goemotions.train weight 1.5 | 0.458 | 0.708 | 0.563 / 62.1 % | 0.641 | 0.458 / 0.593 | 90.2 % |',
  '| sst3 1 + class-balanced loss (0.5) | 0.466 | 0.701 | 0.569 / 62.6 % | 0.644 | 0.466 / 0.595 | 90.5 % |',
  '| sst3 1 + 4 epochs | 0.470 | 0.699 | 0.570 / 62.2 % | 0.641 | 0.470 / 0.595 | 92.5 % |',
  '| sst3 1 + offsets for mean + worst-case | 0.497 | 0.655 | 0.518 / 60.2 % | 0.623 | 0.497 / 0.573 | 87.1 % |',
  '| class-balanced loss (0.5) alone | 0.458 | 0.711 | 0.539 / 58.0 % | 0.649 | 0.458 / 0.590 | 90.7 % |',
  '',
  'The film-review weight is the one change that moves the worst case and the mean together (sst3.dev accuracy +4.6 points, meld.dev +0.006, goemotions.dev −0.008); the rest are within seed noise (about ±0.01) of it. A worst-case offset objective buys meld.dev 0.50 by giving up 0.05 on goemotions.dev and 0.04 on sst3.dev, so it is not used. Not tried for lack of time: skip-gram pre-trained rows (on the intent model they did not help, see its card), distillation from a larger teacher (a two-seed ensemble measured no better for issue 3, see src/train/recipes.ts; a CNN teacher is checked in the second round below).',
  '',
  'Second round (same measure: `scripts/sentiment-experiments/exp.mjs` calls `trainClassifier` with the recipe changed in one place; fp32 after the offset tuning). Seed noise first: the shipped recipe over seeds 1, 2, 3 scores worst / mean 0.469 / 0.594, 0.463 / 0.596, 0.461 / 0.600, so a change must beat about ±0.005 on the 3-seed mean to count:',
  '',
  '| change (seed 1 unless noted) | meld.dev | goemotions.dev | sst3.dev F1 / acc | semeval held-out | worst / mean | short commands neutral |',
  '|---|---|---|---|---|---|---|',
  '| **none (shipped), mean of seeds 1, 2, 3** | 0.464 | 0.706 | 0.569 / 62.8 % | 0.646 | **0.464 / 0.596** | 90.8 % |',
  '| 16 dimensions before folding (same size shipped), mean of seeds 1, 2, 3 | 0.465 | 0.707 | 0.565 / 62.8 % | 0.648 | 0.465 / 0.596 | 90.9 % |',
  '| 16 dimensions, seed 1 alone | 0.474 | 0.703 | 0.564 / 63.1 % | 0.647 | 0.474 / 0.597 | 90.3 % |',
  '| class balance 0.5 inside each training file (`classBalanceScope: file`) | 0.472 | 0.704 | 0.564 / 61.0 % | 0.646 | 0.472 / 0.597 | 90.6 % |',
  '| the same, balance 1 | 0.467 | 0.704 | 0.560 / 59.1 % | 0.649 | 0.467 / 0.595 | 90.9 % |',
  '| the same 0.5 + sst3.train weight 1.5 | 0.463 | 0.704 | 0.569 / 61.4 % | 0.644 | 0.463 / 0.595 | 90.5 % |',
  '| per-file balance 0.5 + 16 dimensions, mean of seeds 1, 2, 3 | 0.469 | 0.706 | 0.565 / 61.0 % | 0.652 | 0.469 / 0.598 | 91.2 % |',
  '| per-file balance 0.25 + 16 dimensions | 0.469 | 0.707 | 0.570 / 61.7 % | 0.647 | 0.469 / 0.598 | 91.5 % |',
  '| per-file balance 0.5 + 32 dimensions | 0.470 | 0.697 | 0.565 / 62.3 % | 0.648 | 0.470 / 0.595 | 89.0 % |',
  '| per-file balance 0.5 + cue weight 4 (surface, negation, lexicon cues) | 0.471 | 0.705 | 0.558 / 60.2 % | 0.640 | 0.471 / 0.594 | 90.9 % |',
  '| per-file balance 0.5 + word weight 3 | 0.466 | 0.710 | 0.563 / 60.3 % | 0.647 | 0.466 / 0.596 | 92.1 % |',
  '| per-file balance 0.5 + 16 dim. + self-training on slurp.train.unlabelled (1 round, p ≥ 0.6, weight 0.5) | 0.467 | 0.709 | 0.559 / 60.6 % | 0.656 | 0.467 / 0.598 | 94.1 % |',
  '| corpus weights by size (semeval 0.75, goemotions 1, sst3 2) | 0.459 | 0.703 | 0.572 / 64.3 % | 0.637 | 0.459 / 0.593 | 89.0 % |',
  '| label smoothing 0.1 | 0.459 | 0.703 | 0.565 / 63.1 % | 0.640 | 0.459 / 0.592 | 89.8 % |',
  '| lr 0.3 | 0.468 | 0.703 | 0.561 / 61.8 % | 0.635 | 0.468 / 0.592 | 91.1 % |',
  '',
  'None of these is kept. 16 dimensions looked like a gain on seed 1 (every set up) and is none over three seeds; balancing each corpus\'s own label mix (meld.dev\'s dialogue is 38 % negative, the training files 16–39 %) with 16 dimensions raises the 3-seed worst / mean by 0.004 / 0.002, inside the noise, and costs sst3.dev accuracy 1.8 points, below the 62 % target. meld.dev\'s errors are mostly negative utterances read as neutral (155 of 366) or positive (83): annoyed “all right, fine” and “okay” carry no lexical cue in the text (see the shipped int8 model\'s `hubnlu eval` on meld.dev). The per-file balance stays available as a recipe setting (`classBalanceScope`).',
  '',
  'A teacher for distillation, checked before distilling: a word CNN (torch 1.13, embeddings 100, 100 filters of widths 1–3, max pooling, 3 epochs, 16 min on one loaded core; `scripts/sentiment-experiments/teacher.py`) on the same training rows, with the same offset tuning, scores meld.dev 0.470, goemotions.dev 0.690, sst3.dev 0.542 / 58.4 %, semeval held-out 0.620: worst / mean 0.470 / 0.581 (after 1 and 2 epochs 0.468 / 0.549 and 0.471 / 0.580), weaker than the student it would teach (0.469 / 0.594), so its soft labels were not distilled. A BiLSTM teacher did not finish one epoch in 5 CPU minutes on the shared machine and was stopped. A teacher worth distilling needs pre-trained text knowledge that these machines do not have (no pre-trained encoder is reachable) or far more CPU.',
  '',
  'Third round: capacity and feature views (issue 13; `scripts/sentiment-experiments/exp.mjs`, and `views.mjs` for models with separate featurizers; same measure, fp32 after the offset tuning; mean of seeds 1, 2, 3 unless noted, a member seed s + 10 k for the k-th extra member; measured at load 8–20 on the shared 2 cores):',
  '',
  '| change | meld.dev | goemotions.dev | sst3.dev F1 / acc | semeval held-out | worst / mean | short commands neutral |',
  '|---|---|---|---|---|---|---|',
  '| **none (shipped)** | 0.464 | 0.706 | 0.569 / 62.8 % | 0.646 | **0.464 / 0.596** | 90.8 % |',
  '| ensemble of 3 seeds in one table (`ensembleSeeds`, logits averaged; a linear ensemble folds to the same 2 numbers a row: same size) | 0.465 | 0.708 | 0.567 / 62.8 % | 0.648 | 0.465 / 0.597 | 91.4 % |',
  '| ensemble of 3 recipes in one table (`ensembleMembers`: shipped; per-file class balance 0.5; sst3.train weight 2) | 0.465 | 0.707 | 0.572 / 63.0 % | 0.648 | 0.465 / 0.598 | 91.2 % |',
  '| no character n-grams (words, bigrams, cues, lexicon), mean of 6 seeds | 0.467 | 0.703 | 0.577 / 62.7 % | 0.654 | 0.467 / 0.600 | 91.5 % |',
  '| the same, 200k rows (half the table, about 2 MB), seeds 11, 12, 13 | 0.471 | 0.703 | 0.579 / 62.4 % | 0.653 | 0.471 / 0.601 | 91.9 % |',
  '| two feature views in one table: shipped + a member trained on the no-character view over the count of all features (`ensembleMembers[].features`; same size) | 0.466 | 0.710 | 0.568 / 62.8 % | 0.653 | 0.466 / 0.599 | 92.0 % |',
  '| the same, the view member at lr 1 instead of 0.5, seeds 1, 2 (shipped on those two seeds: 0.466 / 0.595) | 0.462 | 0.708 | 0.570 / 63.1 % | 0.652 | 0.462 / 0.598 | 91.5 % |',
  '| two feature views, two tables (shipped + the no-character model, each its own average, logits averaged; 2 × 4 MB, needs a second bag in the graph) | 0.468 | 0.705 | 0.579 / 63.6 % | 0.655 | 0.468 / 0.602 | 91.8 % |',
  '| the same with 200k rows in each table (the size of one shipped table) | 0.464 | 0.706 | 0.580 / 63.6 % | 0.656 | 0.464 / 0.602 | 91.8 % |',
  '| hashing into 2^23 buckets instead of 2^21 (fewer collisions), seed 1 | 0.466 | 0.705 | 0.557 / 61.3 % | 0.635 | 0.466 / 0.591 | 91.3 % |',
  '| hidden ReLU layer of 32 (bag → 32 → classes), lr 0.5, seed 1 | 0.197 | 0.173 | 0.115 / 20.7 % | 0.206 | 0.115 / 0.173 | 100 % |',
  '| the same, lr 0.1, seed 1 | 0.390 | 0.587 | 0.424 / 42.8 % | 0.528 | 0.390 / 0.482 | 33.5 % |',
  '| hidden 32, 16 dimensions, lr 0.2, seed 1 | 0.414 | 0.591 | 0.442 / 44.6 % | 0.559 | 0.414 / 0.501 | 35.6 % |',
  '| hidden 16, lr 0.2, 10 epochs, seed 1 | 0.470 | 0.701 | 0.553 / 61.3 % | 0.644 | 0.470 / 0.592 | 90.2 % |',
  '',
  'meld.dev errors, looked at again for this round (the shipped int8 model): of a sample of 40 of the 155 negative utterances read as neutral, 14 are questions ("Where does that leave me?", "Really? You think so?"), 12 exclamations ("I don\'t need you or anybody else!", "Do them!!") and 9 have three words or fewer ("Minsk?", "Bob!", "Ew.", "Seven years."): the annoyance is in the scene and the voice. `?`, `!`, `?!` and `!!` are already features, weighted by training text where they are not negative; a dialogue prior for them would have to come from meld.dev itself, which is evaluation only.',
  '',
  'None of these is kept: the best, two feature views in two tables, raises the 3-seed worst / mean by 0.004 / 0.006 (at the edge of the seed noise, ±0.005) mostly through sst3.dev and the semeval held-out part, leaves meld.dev (0.468) and goemotions.dev (0.705) where they were, and would need a second embedding bag in the graph (with 200k rows a table, the shipped size: 0.464 / 0.602, the worst case no better); its one-table form (same size, no runtime change) gives 0.466 / 0.599, inside the noise. Seed ensembles of a linear model barely differ from one member (SGD on a convex loss ends near the same weights). Dropping character n-grams costs nothing measurable here (worst / mean 0.467 / 0.600 over six seeds, sst3.dev accuracy 62.7 %; with half the rows, about 2 MB, 0.471 / 0.601, sst3.dev accuracy 61.5–63.1 %, so not safely above the 62 % target) but gives up the robustness to typos and recogniser spellings, so it is not taken either. A hidden layer (not foldable: 8 int8 numbers, a scale and an id a row, so about 300k rows in 5 MB) trains far slower through the averaged bag: at 3 epochs it collapses (lr 0.5) or underfits (lr 0.1–0.2); at 10 epochs it reaches the linear model (0.470 / 0.592) without passing it. No change here moves meld.dev or goemotions.dev by more than seed noise: with these training corpora (tweets, Reddit, film reviews) a hashed bag model sits at meld.dev ≈ 0.46–0.47 and goemotions.dev ≈ 0.70–0.71 whatever its capacity; the two targets need in-domain dialogue data or pre-trained text knowledge (see the teacher above), not a wider bag.',
  '',
  'Fourth round: pre-trained word vectors (issue 13). fastText skip-gram (`src/train/skipgram.ts`: a word is the mean of its unigram and character 3–5-gram rows, window 5, 5 negatives, 5 epochs) on every English text in the datasets except the dev sets and the semeval.train rows that seeds 1–3 hold out: goemotions.train, semeval.train, sst3.train, tweeteval.val, hwu64.train, mindmeld.train, snips.train and slurp.train.unlabelled, 127,403 sentences, 1.82 M tokens, 88,504 words (`scripts/sentiment-experiments/pretrain.mjs`; 32 dimensions 2.7 min, 64 dimensions 4.7 min, one core at load 1.5–2.3). The vectors are distributional, not affective: the nearest words to "good" are great 0.94, nice 0.91, fine 0.87, bad 0.86; to "terrible" horrible 0.95, weird 0.89, wholesome 0.89, decent 0.89. They enter the classifier as a view next to the trained hashed bag (`frozenView` in `trainClassifier`, `fasttext.pretrainedDims`): each word\'s vector, scaled to a fixed length, fills extra dimensions of its unigram\'s row (rows are added for words only the unlabelled text has), so the sentence gets Σ word vectors / feature count as a second input whose output weights train with the bag; those dimensions are frozen (lr 0) or learn at a fraction of the rows\' rate. A linear view folds with the rest into the same 2 int8 numbers a row: no graph change, same size. Same measure as the rounds above (`exp.mjs` with `frozen`; fp32 after the offset tuning; each classifier run 32–55 s against 22 s for the shipped recipe, load 1.5–2.3):',
  '',
  '| change | meld.dev | goemotions.dev | sst3.dev F1 / acc | semeval held-out | worst / mean | short commands neutral |',
  '|---|---|---|---|---|---|---|',
  '| **none (shipped), mean of seeds 1, 2, 3** | 0.464 | 0.706 | 0.569 / 62.8 % | 0.646 | **0.464 / 0.596** | 90.8 % |',
  '| none (shipped), seed 1 | 0.469 | 0.700 | 0.562 / 62.5 % | 0.644 | 0.469 / 0.594 | 89.9 % |',
  '| (a) frozen word view, 32 dim., length 16, mean of seeds 1, 2, 3 | 0.465 | 0.706 | 0.560 / 61.5 % | 0.645 | 0.465 / 0.594 | 92.5 % |',
  '| the same, seed 1 | 0.475 | 0.702 | 0.557 / 61.7 % | 0.643 | 0.475 / 0.594 | 92.5 % |',
  '| the same, length 4, seed 1 | 0.463 | 0.706 | 0.557 / 61.8 % | 0.645 | 0.463 / 0.593 | 92.2 % |',
  '| the same, length 64, seed 1 | 0.453 | 0.704 | 0.551 / 61.3 % | 0.638 | 0.453 / 0.587 | 91.8 % |',
  '| the same, 64 dimensions (length 16), seed 1 | 0.459 | 0.714 | 0.563 / 61.6 % | 0.637 | 0.459 / 0.593 | 93.0 % |',
  '| the same, 32 dim., no pruning (708k rows; shipped recipe unpruned: 0.466 / 0.594), seed 1 | 0.475 | 0.701 | 0.556 / 61.6 % | 0.644 | 0.475 / 0.594 | 92.5 % |',
  '| (b) the word vectors learning at 0.1 × the rows\' rate, seed 1 | 0.472 | 0.703 | 0.560 / 61.4 % | 0.639 | 0.472 / 0.593 | 92.2 % |',
  '| the same at the rows\' full rate (pre-trained rows as init), seed 1 | 0.455 | 0.705 | 0.559 / 61.3 % | 0.638 | 0.455 / 0.589 | 93.4 % |',
  '| every pre-trained row (unigrams and character n-grams, each in its own row; 882k rows pruned to 400k), frozen, mean length 4, seed 1 | 0.468 | 0.706 | 0.561 / 62.1 % | 0.633 | 0.468 / 0.592 | 91.5 % |',
  '| the same, mean length 16, seed 1 | 0.457 | 0.707 | 0.555 / 61.2 % | 0.637 | 0.457 / 0.589 | 93.3 % |',
  '| the same, length 4, learning at 0.1 × the rate, seed 1 | 0.474 | 0.697 | 0.552 / 61.2 % | 0.639 | 0.474 / 0.590 | 92.1 % |',
  '| (c) word view + lexicon retrofit (two more frozen numbers a word: its VADER valence, or the cosine-weighted valence of its 10 nearest lexicon words, split into positive and negative), mean of seeds 1, 2, 3 | 0.465 | 0.708 | 0.569 / 62.6 % | 0.643 | 0.465 / 0.596 | 92.2 % |',
  '| no character n-grams + its own word view (unigram skip-gram), seed 1 (no character n-grams alone: 0.465 / 0.596) | 0.464 | 0.701 | 0.580 / 63.1 % | 0.643 | 0.464 / 0.597 | 92.6 % |',
  '| the word view alone (no trained bag: logistic regression on the averaged 32-dim. vectors), seed 1 | 0.370 | 0.504 | 0.424 / 47.5 % | 0.460 | 0.370 / 0.439 | 65.7 % |',
  '| the same, 64 dimensions, seed 1 | 0.383 | 0.540 | 0.424 / 46.9 % | 0.455 | 0.383 / 0.450 | 77.2 % |',
  '',
  'None of these is kept: the two measured over three seeds land within 0.002 of the shipped worst / mean (0.465 / 0.594 and 0.465 / 0.596 against 0.464 / 0.596; seed noise ±0.005), no seed-1 variant passes the shipped seed 1 by more than 0.001 on the mean, and the frozen 32-dimension view costs sst3.dev accuracy 1.3 points (61.5 %, under the 62 % target). Pre-training survives here (frozen, or at a tenth of the rate) but has little to add: the vectors alone score 0.44 mean macro-F1 (the trained bag 0.59) because skip-gram places antonyms together ("good" ~ "bad"), and the words they cover are the words the 89k labelled training sentences already teach the bag directly; the one corpus they would bring new words from, dialogue like meld.dev, is not among the unlabelled texts (MELD\'s training split is not in the datasets). The lexicon retrofit lands on the shipped numbers: the lexicon cues already carry the lexicon. What the view does move is short commands, +1.4 to +3.5 points towards neutral (it has read SLURP\'s and HWU64\'s commands); that target was met already. The view stays available as a recipe setting (`frozenView`, default off; `train-defaults` writes the shipped model\'s model.onnx, features.bin and lexicon.json bit for bit).',
];

/** The card's sentence on the default threshold, from the measured curve. */
function chosenPointText(curve: readonly ThresholdPoint[], threshold: number): string {
  const p = curve.find((q) => Math.abs(q.threshold - threshold) < 1e-9);
  if (!p) return 'see the table.';
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  return `it rejects ${pct(p.gibberishRejected)} of gibberish while turning away ${pct(p.devRejected)} of real requests, ${pct(p.devRejectedWrong)} of which the model had wrong anyway.`;
}

export async function trainDefaults(opts: DefaultsOptions = {}): Promise<DefaultsResult> {
  const ds = datasetsDir(opts.datasets);
  const out = opts.outDir ?? join(packageRoot(), 'models');
  const progress = opts.progress ?? silentProgress;
  const seed = opts.seed ?? 1;
  const version = opts.version ?? '1.0.0';
  const seconds: Record<string, number> = {};
  const result: { intent?: DefaultsResult['intent']; sentiment?: TrainResult; langid?: LangidResult } = {};
  const english = opts.only === undefined || opts.only === 'intent' || opts.only === 'sentiment';
  const I = (f: string): string => join(ds, 'intent', f);
  const S = (f: string): string => join(ds, 'sentiment', f);

  if (english && opts.only !== 'sentiment') {
    const t0 = performance.now();
    const scratch = mkdtempSync(join(tmpdir(), 'hubnlu-intent-heldout-'));
    try {
      progress.log('intent 1/2: held-out run (hwu64 + mindmeld → slurp.devel)');
      const heldOut = await trainModel({
        task: 'intent',
        trainFiles: [I('hwu64.train.jsonl'), I('mindmeld.train.jsonl')],
        devFiles: [I('slurp.devel.jsonl')],
        unlabelledFile: I('slurp.train.unlabelled.txt'),
        out: scratch,
        name: 'intent-heldout',
        version,
        seed,
        progress,
      });
      progress.log(formatTrainSummary(heldOut));
      const heldOutReport = heldOut.dev['slurp.devel.jsonl'];
      const cal = heldOut.trained.calibration;
      const reg = await ModelRegistry.load({ intentDir: scratch, sentimentDir: null, unknownThreshold: 0 });
      let curve: ThresholdPoint[];
      try {
        curve = await thresholdCurve(reg, readRows(I('slurp.devel.jsonl'), 'intent').rows);
      } finally {
        await reg.close();
      }
      progress.log('intent 2/2: shipped run (hwu64 + mindmeld + slurp.devel)');
      const shipped = await trainModel({
        task: 'intent',
        trainFiles: [I('hwu64.train.jsonl'), I('mindmeld.train.jsonl'), I('slurp.devel.jsonl')],
        unlabelledFile: I('slurp.train.unlabelled.txt'),
        out: join(out, 'intent'),
        force: true,
        name: 'hubnlu-intent-en',
        version,
        seed,
        calibration: { temperature: cal.temperature, eceBefore: cal.eceBefore, eceAfter: cal.eceAfter, fitOn: 'slurp.devel.jsonl (held-out run of the same recipe, trained on hwu64 + mindmeld)' },
        metrics: {
          heldOut: {
            note: 'same recipe and seed trained on hwu64.train + mindmeld.train only, evaluated on slurp.devel.jsonl with the full pipeline (int8 classifier + slot tagger)',
            report: summarizeReport(heldOutReport),
            fp32VsInt8: heldOut.written.comparison,
            sizeBytes: heldOut.written.manifest.metrics.sizeBytes,
            pruning: heldOut.trained.stats.devAccuracy,
            thresholdCurve: curve,
          },
        },
        card: {
          summary:
            'Intent classifier (+ slot tagger) for a smart-home hub: the HWU64/SLURP voice-assistant ontology plus thermostat, door and light-query labels. ' +
            `Held-out accuracy (same recipe trained without slurp.devel, evaluated on it): ${(heldOutReport.accuracy * 100).toFixed(2)} %, slot F1 ${heldOutReport.slot_f1?.toFixed(4)}.`,
          sections: {
            'Held-out evaluation (slurp.devel, trained without it)': [
              '| metric | value |',
              '|---|---|',
              `| accuracy | ${(heldOutReport.accuracy * 100).toFixed(2)} % |`,
              `| macro-F1 | ${heldOutReport.macro_f1.toFixed(4)} |`,
              `| macro-recall | ${heldOutReport.macro_recall.toFixed(4)} |`,
              `| slot F1 (type + normalised value, micro) | ${heldOutReport.slot_f1?.toFixed(4)} |`,
              `| ECE after temperature scaling | ${heldOutReport.ece.toFixed(4)} |`,
              `| latency p50 (intent + slots, one utterance, measured during training; p99: \`npm run bench:models\`) | ${heldOutReport.latency_ms.p50.toFixed(3)} ms |`,
              `| share below threshold ${heldOutReport.threshold} | ${((heldOutReport.rejected ?? 0) * 100).toFixed(2)} % (accuracy on the rest ${((heldOutReport.accepted_accuracy ?? 0) * 100).toFixed(2)} %) |`,
              `| fp32 / int8 accuracy (classifier) | ${Object.values(heldOut.written.comparison).map((c) => `${(c.fp32.accuracy * 100).toFixed(2)} % / ${(c.int8.accuracy * 100).toFixed(2)} %`).join('; ')} |`,
              '',
              `Labels in slurp.devel that the held-out model cannot produce (counted as errors): ${heldOutReport.unproducible_labels.join(', ') || 'none'}.`,
            ].join('\n'),
            'Slot tagger': 'Architecture, measurements (fp32 vs int8) and per-type weaknesses of the slot tagger: [docs/slot-tagger.md](../../docs/slot-tagger.md) (hand-written, so kept outside this generated directory).',
            'Size (issue 13)': INTENT_SIZE_NOTES.join('\n'),
            'What was tried (issue 13)': INTENT_TRIED.join('\n'),
            'Choosing the unknown threshold': [
              'Calibrated top confidence of the held-out model on slurp.devel (in-domain) and on 300 seeded random letter strings (gibberish):',
              '',
              formatThresholdCurve(curve, 'slurp.devel'),
              '',
              `Default ${RECIPES.intent.threshold}: ${chosenPointText(curve, RECIPES.intent.threshold)} ` +
                'Raise it where a wrong action is costly (unlocking doors), lower it where a missed request is. Input that is empty after normalisation is always `unknown`.',
            ].join('\n'),
          },
          limits: INTENT_LIMITS,
          reproduce: `${REPRODUCE_DATASETS}\nnpm run train:models            # both shipped models\nnode dist/src/cli/main.js train-defaults --only intent`,
        },
        progress,
      });
      progress.log(formatTrainSummary(shipped));
      result.intent = { heldOut, shipped };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    seconds.intent = (performance.now() - t0) / 1000;
  }

  if (english && opts.only !== 'intent') {
    const t0 = performance.now();
    progress.log('sentiment: goemotions + semeval + sst3 (dev: meld.dev, goemotions.dev, sst3.dev, 5 % of semeval.train)');
    const sentimentCard: CardExtras = {
      summary: 'Three-class sentiment (negative / neutral / positive) of short English utterances, for hub automations that react to how something was said.',
      limits: SENTIMENT_LIMITS,
      reproduce: `${REPRODUCE_DATASETS}\nnpm run train:models            # both shipped models\nnode dist/src/cli/main.js train-defaults --only sentiment`,
    };
    const sentiment = await trainModel({
      task: 'sentiment',
      trainFiles: [S('goemotions.train.jsonl'), S('semeval.train.jsonl'), S('sst3.train.jsonl')],
      devFiles: [S('meld.dev.jsonl'), S('goemotions.dev.jsonl'), S('sst3.dev.jsonl')],
      holdoutOf: { file: 'semeval.train.jsonl', share: SEMEVAL_HOLDOUT },
      out: join(out, 'sentiment'),
      force: true,
      name: 'hubnlu-sentiment-en',
      version,
      seed,
      card: sentimentCard,
      progress,
    });
    // Short neutral commands (intent files): how often they come out neutral.
    const commands = neutralCommandRows(I('slurp.devel.jsonl'));
    const reg = await ModelRegistry.load({ intentDir: null, sentimentDir: sentiment.dir, unknownThreshold: 0 });
    let commandsNeutral: number;
    try {
      commandsNeutral = (await evaluate(reg, 'sentiment', commands, { file: 'commands' })).accuracy;
    } finally {
      await reg.close();
    }
    // The card's tables need the measured numbers: re-render it now.
    const f1s = Object.values(sentiment.dev).map((r) => r.macro_f1);
    const worst = Math.min(...f1s);
    const mean = f1s.reduce((a, b) => a + b, 0) / f1s.length;
    const targetRows = SENTIMENT_TARGETS.map((t) => {
      const got = t.file === 'commands' ? commandsNeutral : sentiment.dev[t.file]?.[t.metric];
      const show = got === undefined ? 'not measured' : t.metric === 'accuracy' ? `${(got * 100).toFixed(2)} %` : got.toFixed(4);
      const want = t.metric === 'accuracy' ? `${(t.min * 100).toFixed(0)} %` : t.min.toFixed(2);
      return `| ${t.what} | ${show} | ≥ ${want} | ${got !== undefined && got >= t.min ? 'met' : 'not met'} |`;
    });
    writeFileSync(
      join(sentiment.dir, 'MODEL_CARD.md'),
      renderModelCard(sentiment.written.manifest, {
        ...sentimentCard,
        sections: {
          'All dev sets together (issue 13)': [
            'The shipped int8 model through the full `hubnlu eval` path, measured while training. The class offsets were tuned on all four dev sets at once for their mean macro-F1, so each number is optimistic by that tuning (three numbers for four sets):',
            '',
            '| dev set | rows | accuracy | macro-F1 |',
            '|---|---|---|---|',
            ...Object.entries(sentiment.dev).map(([f, r]) => `| ${f} | ${r.n} | ${(r.accuracy * 100).toFixed(2)} % | ${r.macro_f1.toFixed(4)} |`),
            `| **worst / mean macro-F1** | | | ${worst.toFixed(4)} / ${mean.toFixed(4)} |`,
            '',
            `Short neutral commands: ${commands.length} slurp.devel requests of at most 8 words, outside \`general_*\` and \`music_(dis)likeness\` (never trained on): ${(commandsNeutral * 100).toFixed(2)} % come out \`neutral\`.`,
            '',
            '| target | measured | wanted | |',
            '|---|---|---|---|',
            ...targetRows,
          ].join('\n'),
          'What was tried (issue 13)': SENTIMENT_TRIED.join('\n'),
        },
      }),
    );
    progress.log(formatTrainSummary(sentiment));
    result.sentiment = sentiment;
    seconds.sentiment = (performance.now() - t0) / 1000;
  }
  const languages: Partial<Record<Language, LanguageResult>> = {};
  for (const lang of LANGUAGES) {
    if (opts.only !== undefined && opts.only !== lang) continue;
    const t0 = performance.now();
    progress.log(`${lang}: intent + slots from Home Assistant templates, sentiment`);
    languages[lang] = await trainLanguage(lang, { datasets: ds, outDir: out, seed, version, progress });
    seconds[lang] = (performance.now() - t0) / 1000;
  }
  if (opts.only === undefined || opts.only === 'langid') {
    const t0 = performance.now();
    progress.log('langid: en (hwu64, mindmeld, snips, goemotions, semeval, sst3) + de/fr/es (UMSAB, templates) + zh-cn (templates)');
    result.langid = await trainLangid({ datasets: ds, out: join(out, 'langid'), commands: haCommandSource(ds), seed, version, progress });
    seconds.langid = (performance.now() - t0) / 1000;
  }
  return { ...result, languages, seconds };
}
