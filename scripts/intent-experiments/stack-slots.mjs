// Issue 13, joint intent + slots (idea 1, stacking; measured with this script): slot evidence for the intent
// classifier. Each sentence gets one pseudo-word per slot type it holds ("zslotplacename"), appended to its text, so the
// classifier's bag (words, bigrams, character n-grams: the pseudo-word's own features) sees which slot types the
// sentence has. Training rows: their gold slot types, each dropped with probability DROP (seeded), so the classifier
// does not over-trust them; slurp.devel, the tune rows and SLURP's unlabelled text (self-training): the types the
// held-out slot tagger (MODEL_DIR from joint-train.mjs, the same seed) finds with no intent, what a runtime could
// compute before the classifier runs. Prints the fp32 accuracy after pruning and the prior shift, as the model card.
//   nice -n 19 node scripts/intent-experiments/stack-slots.mjs devel|tune SEED MODEL_DIR [DROP]
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainClassifier } = await import(`${D}/train/trainer.js`);
const { RECIPES } = await import(`${D}/train/recipes.js`);
const { readRows, readLines } = await import(`${D}/data/rows.js`);
const { stratifiedSplit, mulberry32 } = await import(`${D}/data/random.js`);
const { SlotTagger } = await import(`${D}/model/slot-tagger.js`);
const { loadManifest } = await import(`${D}/model/manifest.js`);
const { tokenize } = await import(`${D}/model/text.js`);
const [mode, seedArg, dir, dropArg] = process.argv.slice(2);
const seed = Number(seedArg);
const drop = Number(dropArg ?? 0.3);
const r = RECIPES.intent;
const I = (f) => `${DS}/intent/${f}`;
const tagger = await SlotTagger.load(dir, loadManifest(dir));
const word = (type) => `zslot${type.replace(/[^a-z]/g, '')}`;
const withTypes = (text, types) => (types.length ? `${text} ${[...new Set(types)].sort().map(word).join(' ')}` : text);
async function predicted(text) {
  const tokens = tokenize(text);
  return tokens.length ? (await tagger.tag(text, tokens, null)).map((s) => s.type) : [];
}
let train = [readRows(I('hwu64.train.jsonl'), 'intent'), readRows(I('mindmeld.train.jsonl'), 'intent')];
let dev;
if (mode === 'tune') {
  const [keep, held] = stratifiedSplit(train.flatMap((d) => d.rows), 0.1, seed);
  train = [{ file: 'train-90', rows: keep }];
  dev = [{ file: 'tune', rows: held }];
} else dev = [readRows(I('slurp.devel.jsonl'), 'intent')];
const rand = mulberry32(1000 + seed);
train = train.map((d) => ({ ...d, rows: d.rows.map((x) => ({ ...x, text: withTypes(x.text, x.slots.map((s) => s.type).filter(() => rand() >= drop)) })) }));
const devAug = [];
for (const d of dev) {
  const rows = [];
  for (const x of d.rows) rows.push({ ...x, text: withTypes(x.text, await predicted(x.text)) });
  devAug.push({ ...d, rows });
}
const unl = [];
for (const t of readLines(I('slurp.train.unlabelled.txt'))) unl.push(withTypes(t, await predicted(t)));
await tagger.dispose();
const t0 = performance.now();
const trained = trainClassifier({
  task: 'intent', train, dev: devAug, unlabelled: { file: I('slurp.train.unlabelled.txt'), texts: unl },
  featurizer: r.featurizer, fasttext: { ...r.fasttext, seed }, selfTraining: r.selfTraining, minCount: r.minCount, maxRows: r.maxRows,
  classBalance: r.classBalance, fileWeights: r.fileWeights, tuneBiases: r.tuneBiases, priorShift: r.priorShift, distill: null,
});
const a = Object.values(trained.stats.devAccuracy)[0];
console.log(`RESULT stack ${mode} seed ${seed} drop ${drop} acc ${(100 * a.priorShifted).toFixed(2)} (unpruned ${(100 * a.unpruned).toFixed(2)}, pruned ${(100 * a.pruned).toFixed(2)}) classifier ${((performance.now() - t0) / 1000).toFixed(0)} s`);
