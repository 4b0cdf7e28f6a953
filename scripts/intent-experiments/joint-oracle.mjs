// Issue 13, joint intent + slots: the ceiling of any choice among the top K intents, from joint-dump.mjs dumps: how
// often the gold intent is in the top 1 / 2 / 3, and the slot F1 when the gold intent's slots are taken whenever the
// gold intent is among the top 3 (else what the pipeline does: the top intent, or no intent under the threshold).
//   node scripts/intent-experiments/joint-oracle.mjs DUMP ...
const D = new URL('../../dist/src', import.meta.url).pathname;
const { slotPrf, addSlotCounts, emptySlotCounts } = await import(`${D}/train/tagger-eval.js`);
import { readFileSync } from 'node:fs';
const THR = 0.4;
for (const file of process.argv.slice(2)) {
  const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  let top1 = 0, in2 = 0, in3 = 0, low = 0, lowWrong = 0;
  const c = emptySlotCounts(), co = emptySlotCounts();
  for (const r of rows) {
    const cs = r.cands;
    if (!cs.length) continue;
    if (cs[0].name === r.gold) top1++;
    if (cs.slice(0, 2).some((x) => x.name === r.gold)) in2++;
    if (cs.some((x) => x.name === r.gold)) in3++;
    const known = cs[0].p >= THR;
    if (!known) { low++; if (cs[0].name !== r.gold) lowWrong++; }
    const pipeline = known ? cs[0].slots : r.none.slots;
    addSlotCounts(c, r.goldSlots, pipeline);
    const g = cs.find((x) => x.name === r.gold);
    addSlotCounts(co, r.goldSlots, g ? g.slots : pipeline);
  }
  const n = rows.length, f = (x) => (100 * x).toFixed(2);
  console.log(`${file}: top1 ${f(top1 / n)} in top2 ${f(in2 / n)} in top3 ${f(in3 / n)} | slot F1 ${f(slotPrf(c).f1)}, gold intent when in the top 3 ${f(slotPrf(co).f1)} | under the threshold ${low} (wrong ${lowWrong})`);
}
