// Issue 13 sentiment experiments: trains the English sentiment classifier with the shipped recipe changed by a
// JSON override, on the same split as train-defaults (5 % of semeval.train held out with the seed), and prints
// fp32 macro-F1 on meld.dev, goemotions.dev, sst3.dev and the semeval part after the recipe's offset tuning,
// worst / mean, sst3.dev accuracy and the share of short slurp.devel commands called neutral.
//   npm run build && nice -n 10 node scripts/sentiment-experiments/exp.mjs '{"fasttext":{"dim":16},"seed":2}' dim16-s2
// Override keys: seed, fasttext, featurizer, fileWeights, classBalance, classBalanceScope, minCount, maxRows,
// selfTraining + unlabelled (comma-separated files), biasObjective, ensembleMembers. Results are also appended to $RESULTS if set.
const D = new URL('../../dist/src', import.meta.url).pathname;
const DS = process.env.HUBNLU_DATASETS ?? new URL('../../../shared/datasets', import.meta.url).pathname;
const { trainClassifier, encodeForTraining } = await import(`${D}/train/trainer.js`);
const { RECIPES } = await import(`${D}/train/recipes.js`);
const { readRows, readLines } = await import(`${D}/data/rows.js`);
const { stratifiedSplit } = await import(`${D}/data/random.js`);
const { parseVaderLexicon } = await import(`${D}/model/features.js`);
const { FastTextScorer } = await import(`${D}/train/fasttext.js`);
const { classificationMetrics } = await import(`${D}/eval/metrics.js`);
const { neutralCommandRows } = await import(`${D}/train/defaults.js`);
import { readFileSync } from 'node:fs';
const over = JSON.parse(process.argv[2] ?? '{}');
const tag = process.argv[3] ?? 'run';
const S = (f) => `${DS}/sentiment/${f}`;
const seed = over.seed ?? 1;
const r = RECIPES.sentiment;
let train = ['goemotions.train.jsonl', 'semeval.train.jsonl', 'sst3.train.jsonl', ...(over.extraTrain ?? [])].map((f) => readRows(S(f), 'sentiment'));
const [keep, held] = stratifiedSplit(train[1].rows, 0.05, seed);
train[1] = { ...train[1], rows: keep };
const dev = ['meld.dev.jsonl', 'goemotions.dev.jsonl', 'sst3.dev.jsonl'].map((f) => readRows(S(f), 'sentiment'));
dev.push({ file: 'semeval.train.jsonl held-out 5 %', rows: held });
const lexicon = parseVaderLexicon(readFileSync(new URL('../../node_modules/vader-sentiment/vader_lexicon.txt', import.meta.url), 'utf8'));
const featurizer = { ...r.featurizer, ...(over.featurizer ?? {}), lexicon: { file: 'lexicon.json', entries: lexicon.size, source: 'x', licence: 'x' } };
const unl = over.unlabelled ? { file: over.unlabelled, texts: over.unlabelled.split(',').flatMap((f) => readLines(f)) } : null;
const t0 = performance.now();
const trained = trainClassifier({
  task: 'sentiment', train, dev, unlabelled: unl, labels: ['negative', 'neutral', 'positive'], featurizer, lexicon,
  fasttext: { ...r.fasttext, seed, ...(over.fasttext ?? {}) },
  selfTraining: over.selfTraining ?? null, minCount: over.minCount ?? r.minCount, maxRows: over.maxRows ?? r.maxRows,
  classBalance: over.classBalance ?? r.classBalance, fileWeights: { ...r.fileWeights, ...(over.fileWeights ?? {}) },
  ...(over.classBalanceScope ? { classBalanceScope: over.classBalanceScope } : {}),
  tuneBiases: true, biasObjective: over.biasObjective ?? 'mean',
  ...(over.ensembleMembers ? { ensembleMembers: over.ensembleMembers } : {}),
});
const secs = (performance.now() - t0) / 1000;
const labels = trained.labels;
const sc = new FastTextScorer(trained.weights);
const out = new Float32Array(3);
const evalSet = (rows) => {
  const enc = encodeForTraining(rows.map((x) => x.text), trained.featurizer, trained.remap, lexicon);
  const pred = enc.map((e) => { sc.logits(e.rows, e.count, out); let b = 0; for (let c = 1; c < 3; c++) if (out[c] > out[b]) b = c; return labels[b]; });
  return classificationMetrics(rows.map((x) => x.label), pred);
};
const res = dev.map((d) => evalSet(d.rows));
const cmd = evalSet(neutralCommandRows(`${DS}/intent/slurp.devel.jsonl`));
const f1 = res.map((m) => m.macroF1);
const line = `${tag}\t${JSON.stringify(over)}\tmeld ${f1[0].toFixed(4)}\tgoem ${f1[1].toFixed(4)}\tsst3 ${f1[2].toFixed(4)}/${(res[2].accuracy * 100).toFixed(1)}%\tsemev ${f1[3].toFixed(4)}\tworst ${Math.min(...f1).toFixed(4)}\tmean ${(f1.reduce((a, b) => a + b) / 4).toFixed(4)}\tcmd ${(cmd.accuracy * 100).toFixed(1)}%\trows ${trained.stats.vocabularyRows}\t${secs.toFixed(0)}s`;
console.log(line);
import { appendFileSync } from 'node:fs';
if (process.env.RESULTS) appendFileSync(process.env.RESULTS, line + '\n');
