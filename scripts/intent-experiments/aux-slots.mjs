// Issue 13, joint intent + slot training (measured with this script): the held-out intent classifier (train-defaults'
// recipe: hwu64 + mindmeld, self-training and prior shift on SLURP's unlabelled text, 31,500 rows; no slot tagger)
// with an auxiliary head that predicts the slot types of each labelled row from the same sentence vector
// (`auxSlots`, src/train/trainer.ts). Prints the fp32 accuracy after pruning and the prior shift (the model cards'
// measure) on slurp.devel (MODE devel) or on 10 % of hwu64 + mindmeld held out, stratified and seeded (MODE tune: the
// weight is chosen there, never on slurp.devel).
//   npm run build && nice -n 19 node scripts/intent-experiments/aux-slots.mjs devel|tune SEED WEIGHT
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainClassifier } = await import(`${D}/train/trainer.js`);
const { RECIPES } = await import(`${D}/train/recipes.js`);
const { readRows, readLines } = await import(`${D}/data/rows.js`);
const { stratifiedSplit } = await import(`${D}/data/random.js`);
const [mode, seedArg, wArg] = process.argv.slice(2);
const seed = Number(seedArg);
const weight = Number(wArg ?? 0);
const r = RECIPES.intent;
const I = (f) => `${DS}/intent/${f}`;
let train = [readRows(I('hwu64.train.jsonl'), 'intent'), readRows(I('mindmeld.train.jsonl'), 'intent')];
let dev;
if (mode === 'tune') {
  const [keep, held] = stratifiedSplit(train.flatMap((d) => d.rows), 0.1, seed);
  train = [{ file: 'train-90', rows: keep }];
  dev = [{ file: 'tune', rows: held }];
} else dev = [readRows(I('slurp.devel.jsonl'), 'intent')];
const t0 = performance.now();
const cpu0 = process.cpuUsage().user;
const trained = trainClassifier({
  task: 'intent', train, dev,
  unlabelled: { file: I('slurp.train.unlabelled.txt'), texts: readLines(I('slurp.train.unlabelled.txt')) },
  featurizer: r.featurizer, fasttext: { ...r.fasttext, seed }, selfTraining: r.selfTraining, minCount: r.minCount, maxRows: r.maxRows,
  classBalance: r.classBalance, fileWeights: r.fileWeights, tuneBiases: r.tuneBiases, priorShift: r.priorShift, distill: null,
  auxSlots: weight > 0 ? { weight } : null,
});
const a = Object.values(trained.stats.devAccuracy)[0];
console.log(`RESULT ${mode} seed ${seed} aux ${weight} acc ${(100 * a.priorShifted).toFixed(2)} (unpruned ${(100 * a.unpruned).toFixed(2)}, pruned ${(100 * a.pruned).toFixed(2)}) classifier ${((performance.now() - t0) / 1000).toFixed(0)} s cpu ${((process.cpuUsage().user - cpu0) / 1e6).toFixed(0)} s`);
