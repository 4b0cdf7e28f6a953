// Issue 13 slot experiments, step 1: trains the held-out intent model exactly as train-defaults does
// (hwu64 + mindmeld + SLURP unlabelled → slurp.devel, seed from argv) into OUT, then writes the intent the
// full pipeline passes to the slot tagger for each slurp.devel row (null below the unknown threshold) to
// OUT/intents.json, so tagger variants can be scored on exactly the held-out pipeline's intents.
//   npm run build && nice -n 19 node scripts/slot-experiments/heldout-intents.mjs /tmp/h13slot/heldout-s1 1
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainModel, formatTrainSummary } = await import(`${D}/train/pipeline.js`);
const { ModelRegistry } = await import(`${D}/model/registry.js`);
const { readRows } = await import(`${D}/data/rows.js`);
import { writeFileSync } from 'node:fs';
const out = process.argv[2];
const seed = Number(process.argv[3] ?? 1);
const I = (f) => `${DS}/intent/${f}`;
const r = await trainModel({
  task: 'intent', trainFiles: [I('hwu64.train.jsonl'), I('mindmeld.train.jsonl')], devFiles: [I('slurp.devel.jsonl')],
  unlabelledFile: I('slurp.train.unlabelled.txt'), out, force: true, name: 'intent-heldout', seed,
});
console.log(formatTrainSummary(r));
const reg = await ModelRegistry.load({ intentDir: out, sentimentDir: null });
const rows = readRows(I('slurp.devel.jsonl'), 'intent').rows;
const intents = [];
let ok = 0;
for (const row of rows) {
  const res = await reg.analyze(row.text, ['intent']);
  const it = res.intent;
  intents.push({ name: it.name, known: it.name !== 'unknown', confidence: it.confidence, alt: it.alternatives?.[0]?.name ?? null, slots: it.slots.map((x) => ({ type: x.type, raw: x.raw, value: x.value, unit: x.unit })) });
  if (it.name === row.label) ok++;
}
await reg.close();
writeFileSync(`${out}/intents.json`, JSON.stringify({ seed, accuracy: ok / rows.length, intents }));
console.log(`pipeline accuracy ${(100 * ok / rows.length).toFixed(2)} %`);
