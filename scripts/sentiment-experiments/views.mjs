// Issue 13 sentiment experiment: an ensemble of feature views that cannot share one table (each member has its
// own featurizer, so its own feature count in the average). Each member trains alone (the shipped recipe with its
// override, no offset tuning); their fp32 logits are averaged (weights optional), the class offsets are then tuned
// on the four dev sets for mean macro-F1 as the shipped recipe does, and the same numbers as exp.mjs are printed.
//   npm run build && nice -n 19 node scripts/sentiment-experiments/views.mjs '[{}, {"featurizer":{"charNgrams":null}}]' views-s1 1
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainClassifier, encodeForTraining } = await import(`${D}/train/trainer.js`);
const { RECIPES } = await import(`${D}/train/recipes.js`);
const { readRows } = await import(`${D}/data/rows.js`);
const { stratifiedSplit } = await import(`${D}/data/random.js`);
const { parseVaderLexicon } = await import(`${D}/model/features.js`);
const { FastTextScorer } = await import(`${D}/train/fasttext.js`);
const { classificationMetrics } = await import(`${D}/eval/metrics.js`);
const { tuneClassBiases } = await import(`${D}/train/calibrate.js`);
const { neutralCommandRows } = await import(`${D}/train/defaults.js`);
import { readFileSync, appendFileSync } from 'node:fs';
const members = JSON.parse(process.argv[2] ?? '[{}]');
const tag = process.argv[3] ?? 'views';
const seed = Number(process.argv[4] ?? 1);
const S = (f) => `${DS}/sentiment/${f}`;
const r = RECIPES.sentiment;
const labels = ['negative', 'neutral', 'positive'];
const train = ['goemotions.train.jsonl', 'semeval.train.jsonl', 'sst3.train.jsonl'].map((f) => readRows(S(f), 'sentiment'));
const [keep, held] = stratifiedSplit(train[1].rows, 0.05, seed);
train[1] = { ...train[1], rows: keep };
const dev = ['meld.dev.jsonl', 'goemotions.dev.jsonl', 'sst3.dev.jsonl'].map((f) => readRows(S(f), 'sentiment'));
dev.push({ file: 'semeval.train.jsonl held-out 5 %', rows: held });
const cmdRows = neutralCommandRows(`${DS}/intent/slurp.devel.jsonl`);
const sets = [...dev.map((d) => d.rows), cmdRows];
const lexicon = parseVaderLexicon(readFileSync(new URL('../../node_modules/vader-sentiment/vader_lexicon.txt', import.meta.url), 'utf8'));
const t0 = performance.now();
const sum = sets.map((rows) => rows.map(() => new Float32Array(3)));
const li = new Map(labels.map((l, i) => [l, i]));
// Offsets tuned on the four dev sets for `logits` (per set, per row), then the line exp.mjs prints.
const report = (name, desc, logits, extra) => {
  const scored = dev.map((d, s) => ({ logits: logits[s], gold: d.rows.map((x) => li.get(x.label)) }));
  const { bias } = tuneClassBiases(scored, labels, undefined, undefined, 'mean');
  const metrics = sets.map((rows, s) => classificationMetrics(rows.map((x) => x.label), logits[s].map((l) => { let b = 0; for (let c = 1; c < 3; c++) if (l[c] + bias[c] > l[b] + bias[b]) b = c; return labels[b]; })));
  const f1 = metrics.slice(0, 4).map((m) => m.macroF1);
  const line = `${name}\t${desc}\tmeld ${f1[0].toFixed(4)}\tgoem ${f1[1].toFixed(4)}\tsst3 ${f1[2].toFixed(4)}/${(metrics[2].accuracy * 100).toFixed(1)}%\tsemev ${f1[3].toFixed(4)}\tworst ${Math.min(...f1).toFixed(4)}\tmean ${(f1.reduce((a, b) => a + b) / 4).toFixed(4)}\tcmd ${(metrics[4].accuracy * 100).toFixed(1)}%\t${extra}`;
  console.log(line);
  if (process.env.RESULTS) appendFileSync(process.env.RESULTS, line + '\n');
};
let totalW = 0;
const rowsKept = [];
for (const [k, m] of members.entries()) {
  const featurizer = { ...r.featurizer, ...(m.featurizer ?? {}), lexicon: { file: 'lexicon.json', entries: lexicon.size, source: 'x', licence: 'x' } };
  const trained = trainClassifier({
    task: 'sentiment', train, dev, labels, featurizer, lexicon,
    fasttext: { ...r.fasttext, seed: seed + 10 * k, ...(m.fasttext ?? {}) },
    minCount: m.minCount ?? r.minCount, maxRows: m.maxRows ?? r.maxRows,
    classBalance: m.classBalance ?? r.classBalance, fileWeights: { ...r.fileWeights, ...(m.fileWeights ?? {}) },
    tuneBiases: false,
  });
  rowsKept.push(trained.remap.size);
  const w = m.weight ?? 1;
  totalW += w;
  const sc = new FastTextScorer(trained.weights);
  const own = sets.map((rows) => encodeForTraining(rows.map((x) => x.text), trained.featurizer, trained.remap, lexicon).map((e) => Float32Array.from(sc.logits(e.rows, e.count, new Float32Array(3)))));
  own.forEach((set, s) => set.forEach((l, i) => { for (let c = 0; c < 3; c++) sum[s][i][c] += w * l[c]; }));
  if (members.length > 1) report(`${tag}-m${k}`, `${JSON.stringify(m)} seed ${seed + 10 * k} alone`, own, `rows ${trained.remap.size}`);
}
for (const set of sum) for (const l of set) for (let c = 0; c < 3; c++) l[c] /= totalW;
report(tag, `${JSON.stringify(members)} seed ${seed}`, sum, `rows ${rowsKept.join('+')}\t${((performance.now() - t0) / 1000).toFixed(0)}s`);
