// Issue 13, joint intent + slots (step 3c): slot F1 when the tagger decodes emission scores mixed over the classifier's
// top K intents (joint-dump.mjs' mixTop / mixAll) instead of the scores under the one accepted intent. The intent is
// unchanged (the classifier's argmax), so only slot F1 moves. Nothing is tuned.
//   node scripts/intent-experiments/joint-mix.mjs DUMP[:name] ...
const D = new URL('../../dist/src', import.meta.url).pathname;
const { slotPrf, addSlotCounts, emptySlotCounts } = await import(`${D}/train/tagger-eval.js`);
import { readFileSync } from 'node:fs';
const THR = 0.4;
const f = (x) => (100 * x).toFixed(2);
for (const a of process.argv.slice(2)) {
  const [file, name] = a.split(':');
  const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const c = { base: emptySlotCounts(), mixTopKnown: emptySlotCounts(), mixTop: emptySlotCounts(), mixAll: emptySlotCounts(), mixPruned: emptySlotCounts() };
  let parts = 0, n = 0;
  for (const r of rows) {
    if (!r.cands.length) { for (const k in c) addSlotCounts(c[k], r.goldSlots, []);
      continue; }
    const known = r.cands[0].p >= THR;
    addSlotCounts(c.base, r.goldSlots, known ? r.cands[0].slots : r.none.slots);
    addSlotCounts(c.mixTopKnown, r.goldSlots, known ? r.mixTop : r.none.slots);
    addSlotCounts(c.mixTop, r.goldSlots, r.mixTop);
    addSlotCounts(c.mixAll, r.goldSlots, r.mixAll);
    if (r.mixPruned) { addSlotCounts(c.mixPruned, r.goldSlots, r.mixPruned); parts += r.mixPrunedParts; n++; }
  }
  console.log(`${name ?? file}: slot F1 ${Object.entries(c).map(([k, v]) => `${k} ${f(slotPrf(v).f1)}`).join(', ')}${n ? ` (pruned: ${(parts / n).toFixed(2)} tagger passes a sentence)` : ''}`);
}
