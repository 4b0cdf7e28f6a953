// Issue 13, joint intent + slots (step 1): trains the held-out intent model (classifier + slot tagger) exactly as
// train-defaults' held-out run does (hwu64 + mindmeld + SLURP's unlabelled text, the shipped recipe, seed from argv).
// MODE devel: evaluated on slurp.devel (the model cards' held-out run).
// MODE tune: 10 % of hwu64 + mindmeld held out (stratified, seeded) and written to OUT/../tune-sSEED.jsonl; slurp.devel
// is not read at all. Joint-decoding weights are chosen on those rows, never on slurp.devel.
//   npm run build && nice -n 19 node scripts/intent-experiments/joint-train.mjs devel|tune SEED OUT
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainModel, formatTrainSummary } = await import(`${D}/train/pipeline.js`);
const [mode, seedArg, out] = process.argv.slice(2);
const seed = Number(seedArg);
const I = (f) => `${DS}/intent/${f}`;
const base = { task: 'intent', trainFiles: [I('hwu64.train.jsonl'), I('mindmeld.train.jsonl')], unlabelledFile: I('slurp.train.unlabelled.txt'), out, force: true, name: 'intent-heldout', seed };
const t0 = process.cpuUsage();
const r = await trainModel(mode === 'tune'
  ? { ...base, holdout: 0.1, holdoutFile: `${out}.tune.jsonl`, evaluateDev: false }
  : { ...base, devFiles: [I('slurp.devel.jsonl')] });
console.log(formatTrainSummary(r));
console.log(`RESULT train ${mode} seed ${seed} cpu ${((process.cpuUsage(t0).user) / 1e6).toFixed(0)} s`);
