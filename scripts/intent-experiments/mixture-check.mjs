// Issue 13, joint intent + slots: the held-out pipeline (a model directory from joint-train.mjs) through the runtime
// (ModelRegistry, onnxruntime) on slurp.devel, as trained and with `slots.intentMixture` set in a copy of its
// manifest: intent accuracy and slot F1 of both (the runtime's own numbers, to check joint-mix.mjs' mixPruned).
//   nice -n 19 node scripts/intent-experiments/mixture-check.mjs MODEL_DIR [TOP] [FLOOR]
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { ModelRegistry } = await import(`${D}/model/registry.js`);
const { readIntentRows, goldSlots } = await import(`${D}/train/tagger.js`);
const { slotPrf, addSlotCounts, emptySlotCounts } = await import(`${D}/train/tagger-eval.js`);
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const [dir, top = '3', floor = '0.05'] = process.argv.slice(2);
const copy = mkdtempSync(join(tmpdir(), 'mixture-'));
cpSync(dir, copy, { recursive: true });
const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
m.slots.intentMixture = { top: Number(top), floor: Number(floor) };
writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m, null, 2));
const rows = await readIntentRows(`${DS}/intent/slurp.devel.jsonl`);
for (const [name, d] of [['as trained', dir], [`intentMixture ${top} / ${floor}`, copy]]) {
  const reg = await ModelRegistry.load({ intentDir: d, sentimentDir: null });
  const c = emptySlotCounts();
  let ok = 0;
  const t0 = process.cpuUsage();
  for (const r of rows) {
    const a = (await reg.analyze(r.text, ['intent'])).intent;
    if (a.name === r.intent) ok++;
    addSlotCounts(c, goldSlots(r), a.slots);
  }
  const cpu = process.cpuUsage(t0);
  await reg.close();
  console.log(`${name}: accepted-intent accuracy ${(100 * ok / rows.length).toFixed(2)} %, slot F1 ${(100 * slotPrf(c).f1).toFixed(2)}, cpu ${((cpu.user + cpu.system) / rows.length).toFixed(0)} µs an utterance`);
}
rmSync(copy, { recursive: true });
