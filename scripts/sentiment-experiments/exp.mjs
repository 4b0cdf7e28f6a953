// Issue 13 sentiment experiments: trains the English sentiment classifier with the shipped recipe changed by a
// JSON override, on the same split as train-defaults (5 % of semeval.train held out with the seed), and prints
// fp32 macro-F1 on meld.dev, goemotions.dev, sst3.dev and the semeval part after the recipe's offset tuning,
// worst / mean, sst3.dev accuracy and the share of short slurp.devel commands called neutral.
//   npm run build && nice -n 10 node scripts/sentiment-experiments/exp.mjs '{"fasttext":{"dim":16},"seed":2}' dim16-s2
// Override keys: seed, fasttext, featurizer, fileWeights, classBalance, classBalanceScope, minCount, maxRows,
// selfTraining + unlabelled (comma-separated files), biasObjective, ensembleMembers, frozen (a pre-trained skip-gram
// word view, see below and pretrain.mjs). Results are also appended to $RESULTS if set.
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
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
// Word view (issue 13): `frozen: { sg: skip-gram options, scale, lr }`, pre-trained on pretrain.mjs's corpus.
let frozenView = null;
if (over.frozen) {
  const { corpus, pretrained } = await import('./pretrain.mjs');
  const { wordViewFromSkipGram } = await import(`${D}/train/skipgram.js`);
  const p = pretrained(featurizer, over.frozen.sg ?? {});
  // rows 'all': every pre-trained row (unigrams and character n-grams) in its own row, scaled to mean length `scale`.
  let words;
  if (over.frozen.rows === 'all') {
    let norms = 0;
    for (let i = 0; i < p.ids.length; i++) { let s = 0; for (let d = 0; d < p.dim; d++) s += p.vectors[i * p.dim + d] ** 2; norms += Math.sqrt(s); }
    const k = (over.frozen.scale ?? 1) / (norms / p.ids.length);
    words = { dim: p.dim, ids: p.ids, vectors: Float32Array.from(p.vectors, (x) => x * k) };
  } else words = wordViewFromSkipGram(p, corpus(), featurizer, over.frozen.scale ?? 1);
  // valence { k, scale } (words view): two more view dimensions, the word's positive and negative valence: its own
  // VADER valence for lexicon words, else the cosine-weighted mean valence of its k nearest lexicon words (a cheap
  // lexicon retrofit / expansion over the pre-trained space), × scale / 4.
  if (over.frozen.valence && over.frozen.rows !== 'all') {
    const { featurizeTokens } = await import(`${D}/model/features.js`);
    const { tokenize } = await import(`${D}/model/text.js`);
    const us = { ...featurizer, surface: false, negation: false, lexicon: undefined, wordNgrams: 1, charNgrams: null, numberShape: false };
    const idx = new Map([...words.ids].map((id, i) => [id, i]));
    const dim = words.dim;
    const unit = (i) => { const v = words.vectors.subarray(i * dim, (i + 1) * dim); let n = 0; for (const x of v) n += x * x; n = Math.sqrt(n) || 1; return Float32Array.from(v, (x) => x / n); };
    const lexRows = [];
    for (const [w, val] of lexicon) { const i = idx.get(featurizeTokens(tokenize(w), us, w)[0]); if (i !== undefined) lexRows.push([unit(i), val]); }
    const lexIdx = new Map();
    for (const [w, val] of lexicon) { const i = idx.get(featurizeTokens(tokenize(w), us, w)[0]); if (i !== undefined) lexIdx.set(i, val); }
    const { k, scale } = over.frozen.valence;
    const nd = dim + 2;
    const vec = new Float32Array(words.ids.length * nd);
    const top = new Array(k);
    for (let i = 0; i < words.ids.length; i++) {
      vec.set(words.vectors.subarray(i * dim, (i + 1) * dim), i * nd);
      let val = lexIdx.get(i);
      if (val === undefined) {
        const u = unit(i);
        top.fill(null);
        for (const [lu, lv] of lexRows) {
          let c = 0; for (let d = 0; d < dim; d++) c += u[d] * lu[d];
          let j = k - 1;
          if (top[j] && top[j][0] >= c) continue;
          while (j > 0 && (!top[j - 1] || top[j - 1][0] < c)) { top[j] = top[j - 1]; j--; }
          top[j] = [c, lv];
        }
        let ws = 0, vs = 0;
        for (const t of top) if (t && t[0] > 0) { ws += t[0]; vs += t[0] * t[1]; }
        val = ws > 0 ? vs / ws : 0;
      }
      vec[i * nd + dim] = Math.max(val, 0) * scale / 4;
      vec[i * nd + dim + 1] = Math.max(-val, 0) * scale / 4;
    }
    words = { dim: nd, ids: words.ids, vectors: vec };
    console.error(`valence: ${lexRows.length} lexicon words in the view`);
  }
  frozenView = { words, lr: over.frozen.lr ?? 0 };
  console.error(`word view: ${frozenView.words.ids.length} words, ${p.dim} dimensions`);
}
const t0 = performance.now();
const trained = trainClassifier({
  task: 'sentiment', train, dev, unlabelled: unl, labels: ['negative', 'neutral', 'positive'], featurizer, lexicon,
  fasttext: { ...r.fasttext, seed, ...(over.fasttext ?? {}) },
  selfTraining: over.selfTraining ?? null, minCount: over.minCount ?? r.minCount, maxRows: over.maxRows ?? r.maxRows,
  classBalance: over.classBalance ?? r.classBalance, fileWeights: { ...r.fileWeights, ...(over.fileWeights ?? {}) },
  ...(over.classBalanceScope ? { classBalanceScope: over.classBalanceScope } : {}),
  tuneBiases: true, biasObjective: over.biasObjective ?? 'mean',
  ...(over.ensembleMembers ? { ensembleMembers: over.ensembleMembers } : {}),
  frozenView,
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
