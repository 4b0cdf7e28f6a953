// Issue 13 intent experiment: the held-out run of train-defaults (hwu64 + mindmeld + SLURP unlabelled →
// slurp.devel, shipped intent recipe) with SNIPS rows whose intent maps cleanly onto the ontology
// (GetWeather → weather_query, PlayMusic → play_music) as a third training file of weight W (0 = left out).
// Prints the full-pipeline (int8) held-out accuracy, as the model card's held-out table reports it.
//   nice -n 19 node scripts/slot-experiments/intent-snips.mjs SEED W
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainModel } = await import(`${D}/train/pipeline.js`);
const { RECIPES } = await import(`${D}/train/recipes.js`);
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
const seed = Number(process.argv[2] ?? 1);
const w = Number(process.argv[3] ?? 1);
const I = (f) => `${DS}/intent/${f}`;
const work = mkdtempSync(`${tmpdir()}/h13slot-intent-`);
const MAP = { GetWeather: 'weather_query', PlayMusic: 'play_music' };
const snips = readFileSync(I('snips.train.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  .filter((r) => MAP[r.intent]).map((r) => JSON.stringify({ text: r.text, intent: MAP[r.intent], slots: [], source: 'snips-train' }));
writeFileSync(`${work}/snips-mapped.jsonl`, snips.join('\n') + '\n');
const files = [I('hwu64.train.jsonl'), I('mindmeld.train.jsonl'), ...(w > 0 ? [`${work}/snips-mapped.jsonl`] : [])];
const recipe = { ...RECIPES.intent, fileWeights: { ...RECIPES.intent.fileWeights, 'snips-mapped.jsonl': w } };
const r = await trainModel({ task: 'intent', trainFiles: files, devFiles: [I('slurp.devel.jsonl')], unlabelledFile: I('slurp.train.unlabelled.txt'),
  out: `${work}/model`, name: 'x', seed, slots: false, recipe });
const rep = r.dev['slurp.devel.jsonl'];
console.log(`RESULT intent seed ${seed} snips weight ${w} (${w > 0 ? snips.length : 0} rows): accuracy ${(100 * rep.accuracy).toFixed(2)} % macro-F1 ${rep.macro_f1.toFixed(4)} classifier ${r.seconds.classifier.toFixed(1)} s`);
rmSync(work, { recursive: true, force: true });
