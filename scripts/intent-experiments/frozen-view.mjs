// Issue 13 experiment (measured, not shipped): the held-out intent classifier (train-defaults' recipe: hwu64 +
// mindmeld, self-training and prior shift on SLURP's unlabelled text, 31,500 rows; no slot tagger) with a pre-trained
// skip-gram word view beside the bag (`frozenView`, as the sentiment experiments' scripts/sentiment-experiments/exp.mjs
// `frozen`). Corpus: pretrain.mjs's (every English training text in the datasets, no dev set) minus any sentence
// slurp.devel holds. Prints the fp32 slurp.devel accuracy after pruning and the prior shift (the model card's measure).
// OWN: the trained dimensions (recipe 64); ROWS: rows kept (recipe 31,500). The view's dimensions add to the
// row width: an intent row does not fold (70 labels), so 64 + 32 dimensions ship 1 MB more than 64.
//   npm run build && [VIEW=intent] [OWN=32] [ROWS=n] nice -n 19 node scripts/intent-experiments/frozen-view.mjs SEED LR|none [DIM] [SCALE]
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainClassifier } = await import(`${D}/train/trainer.js`);
const { RECIPES } = await import(`${D}/train/recipes.js`);
const { readRows, readLines } = await import(`${D}/data/rows.js`);
const { normalizeText } = await import(`${D}/model/text.js`);
const { pretrainSkipGram, wordViewFromSkipGram } = await import(`${D}/train/skipgram.js`);
const { corpus } = await import('../sentiment-experiments/pretrain.mjs');
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
const seed = Number(process.argv[2] ?? 1);
const lr = process.argv[3] ?? '0';
const dim = Number(process.argv[4] ?? 32);
const scale = Number(process.argv[5] ?? 16);
const r = RECIPES.intent;
const I = (f) => `${DS}/intent/${f}`;
const devRows = readRows(I('slurp.devel.jsonl'), 'intent');
let frozenView = null;
if (lr !== 'none') {
  const devText = new Set(devRows.rows.map((x) => normalizeText(x.text)));
  const texts = corpus().filter((t) => !devText.has(normalizeText(t)));
  const file = `${tmpdir()}/hintent2-sg${dim}.bin`;
  let p;
  if (existsSync(file)) {
    const b = readFileSync(file);
    const n = b.readUInt32LE(0), d = b.readUInt32LE(4);
    const ab = b.buffer.slice(b.byteOffset + 8, b.byteOffset + 8 + n * 4 * (1 + d));
    p = { dim: d, ids: new Uint32Array(ab, 0, n), vectors: new Float32Array(ab, n * 4, n * d) };
  } else {
    const t0 = performance.now();
    p = pretrainSkipGram(texts, r.featurizer, { dim });
    console.error(`skip-gram ${JSON.stringify(p.stats)} (${texts.length} sentences, ${((performance.now() - t0) / 60000).toFixed(1)} min)`);
    const head = Buffer.alloc(8); head.writeUInt32LE(p.ids.length, 0); head.writeUInt32LE(p.dim, 4);
    writeFileSync(file, Buffer.concat([head, Buffer.from(p.ids.buffer, p.ids.byteOffset, p.ids.byteLength), Buffer.from(p.vectors.buffer, p.vectors.byteOffset, p.vectors.byteLength)]));
  }
  // VIEW=intent: vectors only for the words of the intent training files and SLURP's unlabelled text (the view's other
  // words would take rows, and pruning places, from the bag).
  const viewTexts = process.env.VIEW === 'intent'
    ? ['hwu64.train.jsonl', 'mindmeld.train.jsonl'].flatMap((f) => readRows(I(f), 'intent').rows.map((x) => x.text)).concat(readLines(I('slurp.train.unlabelled.txt')))
    : texts;
  frozenView = { words: wordViewFromSkipGram(p, viewTexts, r.featurizer, scale), lr: Number(lr) };
}
const t0 = performance.now();
const cpu0 = process.cpuUsage().user;
const trained = trainClassifier({
  task: 'intent', train: [readRows(I('hwu64.train.jsonl'), 'intent'), readRows(I('mindmeld.train.jsonl'), 'intent')], dev: [devRows],
  unlabelled: { file: I('slurp.train.unlabelled.txt'), texts: readLines(I('slurp.train.unlabelled.txt')) },
  featurizer: r.featurizer, fasttext: { ...r.fasttext, seed, ...(process.env.OWN ? { dim: Number(process.env.OWN) } : {}) }, selfTraining: r.selfTraining, minCount: r.minCount, maxRows: Number(process.env.ROWS ?? r.maxRows),
  classBalance: r.classBalance, fileWeights: r.fileWeights, tuneBiases: r.tuneBiases, priorShift: r.priorShift, distill: null, frozenView,
});
const a = trained.stats.devAccuracy['slurp.devel.jsonl'];
console.log(`RESULT seed ${seed} own dim ${process.env.OWN ?? r.fasttext.dim} view ${lr === 'none' ? 'none' : `${process.env.VIEW ?? 'all'} dim ${dim} length ${scale} lr ${lr}`} acc ${(100 * a.priorShifted).toFixed(2)} (unpruned ${(100 * a.unpruned).toFixed(2)}, pruned ${(100 * a.pruned).toFixed(2)}) rows ${trained.stats.vocabularyRows} -> ${trained.remap.size} classifier ${((performance.now() - t0) / 1000).toFixed(0)} s cpu ${((process.cpuUsage().user - cpu0) / 1e6).toFixed(0)} s`);
