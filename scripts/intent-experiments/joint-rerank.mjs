// Issue 13, joint intent + slots (step 3b, stacking): a log-linear re-ranker over the classifier's top K intents,
// trained on cross-fitted predictions: the `tune` dumps of joint-dump.mjs (10 % of hwu64 + mindmeld held out of the
// classifier and the tagger that scored them, one split per seed). Each candidate intent c scores
//   log p(c) + Σ θ · features(c)
// with features: (c, slot type t) for each type the tagger finds with no intent (slot evidence independent of c) and
// for each type it finds under c, (c, no slot), and the CRF terms of joint-grid.mjs (path − logZ, logZ − logZ_top).
// L2 strength λ is chosen by leave-one-seed-out over the tune dumps; the re-ranker trained on all tune dumps is then
// applied unchanged to the `devel` dumps (slurp.devel). Never fitted or chosen on slurp.devel.
//   node scripts/intent-experiments/joint-rerank.mjs tune:FILE ... devel:FILE:seed ...
const D = new URL('../../dist/src', import.meta.url).pathname;
const { slotPrf, addSlotCounts, emptySlotCounts } = await import(`${D}/train/tagger-eval.js`);
import { readFileSync } from 'node:fs';
const THR = 0.4, K = 3;
const args = process.argv.slice(2).map((a) => { const [kind, file, seed] = a.split(':'); return { kind, file, seed, rows: readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) }; });
const GROUPS = (process.env.RR_GROUPS ?? 'none,cond,empty,crf').split(',');
function feats(r, c, top) {
  const f = new Map();
  const add = (k, v = 1) => f.set(k, (f.get(k) ?? 0) + v);
  if (GROUPS.includes('none')) for (const t of new Set(r.none.slots.map((s) => s.type))) add(`n|${c.name}|${t}`);
  if (GROUPS.includes('cond')) for (const t of new Set(c.slots.map((s) => s.type))) add(`c|${c.name}|${t}`);
  if (GROUPS.includes('empty') && r.none.slots.length === 0) add(`e|${c.name}`);
  if (GROUPS.includes('crf')) { add('crf', c.path - c.logZ); add('z', c.logZ - top.logZ); }
  return f;
}
function prep(rows) {
  return rows.filter((r) => r.cands.length > 0).map((r) => ({ r, cs: r.cands.slice(0, K).map((c) => ({ c, lp: Math.log(c.p), f: feats(r, c, r.cands[0]) })) }));
}
function train(items, lambda, epochs = 15) {
  const th = new Map();
  let lr = 0.1;
  for (let e = 0; e < epochs; e++) {
    for (const it of items) {
      const g = it.cs.findIndex((x) => x.c.name === it.r.gold);
      if (g < 0) continue;
      const s = it.cs.map((x) => { let v = x.lp; for (const [k, fv] of x.f) v += (th.get(k) ?? 0) * fv; return v; });
      const mx = Math.max(...s), z = s.reduce((a, v) => a + Math.exp(v - mx), 0);
      it.cs.forEach((x, i) => {
        const grad = Math.exp(s[i] - mx) / z - (i === g ? 1 : 0);
        for (const [k, fv] of x.f) th.set(k, (th.get(k) ?? 0) - lr * grad * fv);
      });
    }
    for (const [k, v] of th) th.set(k, v * (1 - lr * lambda));
    lr *= 0.85;
  }
  return th;
}
function evaluate(items, rows, th) {
  const counts = emptySlotCounts();
  let ok = 0;
  const byRow = new Map(items.map((it) => [it.r, it]));
  for (const r of rows) {
    let pred = 'unknown', slots = [];
    const it = byRow.get(r);
    if (it) {
      const s = it.cs.map((x) => { let v = x.lp; for (const [k, fv] of x.f) v += (th.get(k) ?? 0) * fv; return v; });
      let best = 0;
      for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
      const mass = it.cs.reduce((a, x) => a + x.c.p, 0);
      const mx = Math.max(...s), z = s.reduce((a, v) => a + Math.exp(v - mx), 0);
      const conf = (mass * Math.exp(s[best] - mx)) / z;
      pred = it.cs[best].c.name;
      slots = conf >= THR ? it.cs[best].c.slots : r.none.slots;
    }
    if (pred === r.gold) ok++;
    addSlotCounts(counts, r.goldSlots, slots);
  }
  return { acc: ok / rows.length, f1: slotPrf(counts).f1 };
}
const f = (x) => (100 * x).toFixed(2);
const tune = args.filter((a) => a.kind === 'tune').map((a) => ({ ...a, items: prep(a.rows) }));
const devel = args.filter((a) => a.kind === 'devel').map((a) => ({ ...a, items: prep(a.rows) }));
let best = null;
for (const lambda of [0.3, 0.1, 0.03, 0.01, 0.003]) {
  // Leave one tune split out: train on the others, score the left-out one.
  let o = 0, o0 = 0;
  for (let i = 0; i < tune.length; i++) {
    const th = train(tune.filter((_, j) => j !== i).flatMap((t) => t.items), lambda);
    const r = evaluate(tune[i].items, tune[i].rows, th), r0 = evaluate(tune[i].items, tune[i].rows, new Map());
    o += r.acc + r.f1; o0 += r0.acc + r0.f1;
  }
  console.log(`groups ${GROUPS} λ ${lambda}: leave-one-seed-out tune (acc + F1) ${f(o / tune.length)} against ${f(o0 / tune.length)} without`);
  if (!best || o > best.o) best = { lambda, o };
}
const th = train(tune.flatMap((t) => t.items), best.lambda);
const res = devel.map((d) => ({ seed: d.seed, base: evaluate(d.items, d.rows, new Map()), rr: evaluate(d.items, d.rows, th) }));
const mean = (k, m) => res.reduce((a, x) => a + x[k][m], 0) / res.length;
console.log(`chosen λ ${best.lambda} (${th.size} weights) | devel ${res.map((x) => `s${x.seed} acc ${f(x.base.acc)}→${f(x.rr.acc)} F1 ${f(x.base.f1)}→${f(x.rr.f1)}`).join(' ; ')} | mean acc ${f(mean('base', 'acc'))}→${f(mean('rr', 'acc'))} F1 ${f(mean('base', 'f1'))}→${f(mean('rr', 'f1'))}`);
