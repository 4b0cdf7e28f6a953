// Issue 13, joint intent + slots (step 3): scores joint decoding over the classifier's top K intents from the dumps of
// joint-dump.mjs. Each candidate intent c gets
//   log p(c) + a · (path_c − logZ_c) + b · (logZ_c − logZ_top) + g · log P(slot types of path_c | c)
// (path_c − logZ_c: the CRF log-probability of the tagger's best path under c; logZ_c − logZ_top: how much more mass
// the tagger's scores have under c than under the top intent; the last: a Bernoulli naive-Bayes table of which slot
// types occur with each intent in the training rows, in the recipe's slot conventions). The weights are chosen on the
// `tune` dumps (10 % of hwu64 + mindmeld held out of a model trained on the rest) for intent accuracy + slot F1, then
// applied unchanged to the `devel` dumps (slurp.devel, model trained on all of hwu64 + mindmeld).
//   node scripts/intent-experiments/joint-grid.mjs tune:FILE devel:FILE[:seed] ...
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { slotPrf, addSlotCounts, emptySlotCounts } = await import(`${D}/train/tagger-eval.js`);
const { readIntentRows } = await import(`${D}/train/tagger.js`);
const { harmonizeSlotConventions } = await import(`${D}/train/slot-conventions.js`);
import { readFileSync } from 'node:fs';
const THR = Number(process.env.THR ?? 0.4);
const K = Number(process.env.K ?? 3);
const args = process.argv.slice(2).map((a) => { const [kind, file, seed] = a.split(':'); return { kind, file, seed, rows: readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) }; });
const I = (f) => `${DS}/intent/${f}`;
const allTrain = [...(await readIntentRows(I('hwu64.train.jsonl'))), ...(await readIntentRows(I('mindmeld.train.jsonl')))];
// Naive-Bayes slot-type table per dump kind: the tune model never saw its held-out rows, so neither does its table.
function nbTable(excludeFile) {
  const ex = new Set();
  if (excludeFile) for (const l of readFileSync(excludeFile, 'utf8').trim().split('\n')) { const o = JSON.parse(l); ex.add(`${o.intent}\t${o.text}`); }
  const rows = harmonizeSlotConventions(allTrain.filter((r) => !ex.has(`${r.intent}\t${r.text}`)));
  const count = new Map(), pres = new Map(), types = new Set();
  for (const r of rows) {
    count.set(r.intent, (count.get(r.intent) ?? 0) + 1);
    const m = pres.get(r.intent) ?? new Map(); pres.set(r.intent, m);
    for (const t of new Set((r.slots ?? []).map((s) => s.type))) { m.set(t, (m.get(t) ?? 0) + 1); types.add(t); }
  }
  return (intent, slotTypes) => {
    const n = count.get(intent) ?? 0, m = pres.get(intent) ?? new Map();
    const have = new Set(slotTypes);
    let v = 0;
    for (const t of types) { const q = ((m.get(t) ?? 0) + 0.5) / (n + 1); v += Math.log(have.has(t) ? q : 1 - q); }
    return v;
  };
}
for (const a of args) {
  a.nb = nbTable(a.kind === 'tune' ? a.file.replace(/\.dump\.jsonl$/, '') : null);
  for (const r of a.rows) for (const c of r.cands) c.nbv = a.nb(c.name, c.slots.map((s) => s.type));
}
function score(rows, w, mode) {
  const counts = emptySlotCounts();
  let ok = 0, known = 0;
  for (const r of rows) {
    let pred = 'unknown', slots = [];
    if (r.cands.length > 0) {
      const cs = r.cands.slice(0, K);
      const top = cs[0];
      const s = cs.map((c) => Math.log(c.p) + w.a * (c.path - c.logZ) + w.b * (c.logZ - top.logZ) + w.g * (c.nbv - top.nbv));
      let best = 0;
      for (let i = 1; i < cs.length; i++) if (s[i] > s[best]) best = i;
      // Joint confidence: the top K's probability mass shared out by the joint scores.
      const mass = cs.reduce((x, c) => x + c.p, 0);
      const mx = Math.max(...s), z = s.reduce((x, v) => x + Math.exp(v - mx), 0);
      const conf = mode === 'top1' ? top.p : (mass * Math.exp(s[best] - mx)) / z;
      const isKnown = conf >= THR;
      pred = cs[best].name;
      if (isKnown) known++;
      slots = isKnown ? cs[best].slots : r.none.slots;
    }
    if (pred === r.gold) ok++;
    addSlotCounts(counts, r.goldSlots, slots);
  }
  return { acc: ok / rows.length, f1: slotPrf(counts).f1, known: known / rows.length };
}
const grid = [];
for (const a of [0, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2]) for (const b of [0, 0.1, 0.2, 0.3, 0.5, 1]) for (const g of [0, 0.1, 0.25, 0.5, 1]) grid.push({ a, b, g });
const f = (x) => (100 * x).toFixed(2);
const tune = args.filter((x) => x.kind === 'tune'), devel = args.filter((x) => x.kind === 'devel');
for (const mode of ['joint', 'top1']) {
  const objective = (w) => tune.reduce((s, t) => { const r = score(t.rows, w, mode); return s + r.acc + r.f1; }, 0) / tune.length;
  const ranked = grid.map((w) => ({ w, o: objective(w) })).sort((x, y) => y.o - x.o);
  const base = objective({ a: 0, b: 0, g: 0 });
  // Families: each term alone, chosen on tune as well.
  const fam = { all: ranked[0].w };
  for (const k of ['a', 'b', 'g']) fam[`${k} only`] = ranked.find((x) => Object.entries(x.w).every(([kk, v]) => kk === k || v === 0)).w;
  console.log(`mode ${mode} (confidence for the threshold: ${mode === 'joint' ? 'joint' : 'classifier top-1'}), K ${K}, tune objective base ${(100 * base).toFixed(2)}`);
  for (const [name, w] of [['baseline', { a: 0, b: 0, g: 0 }], ...Object.entries(fam)]) {
    const t = tune.map((x) => score(x.rows, w, mode));
    const d = devel.map((x) => ({ seed: x.seed, ...score(x.rows, w, mode) }));
    const mean = (k) => d.reduce((s, x) => s + x[k], 0) / (d.length || 1);
    console.log(`  ${name.padEnd(8)} a ${w.a} b ${w.b} g ${w.g} | tune acc ${t.map((x) => f(x.acc)).join('/')} F1 ${t.map((x) => f(x.f1)).join('/')} | devel ${d.map((x) => `s${x.seed} acc ${f(x.acc)} F1 ${f(x.f1)} known ${f(x.known)}`).join(' ; ')} | mean acc ${f(mean('acc'))} F1 ${f(mean('f1'))}`);
  }
}
