// Issue 13 slot experiments, step 2: trains the slot tagger on hwu64 + mindmeld with the shipped settings
// changed by a JSON override, and scores its int8 view (the same arithmetic as slots.onnx) on slurp.devel with
// the intents the held-out pipeline gave (OUT/intents.json from heldout-intents.mjs; null below the threshold),
// with the gold intents, and reports per-type scores and an error breakdown.
//   nice -n 19 node scripts/slot-experiments/tagger.mjs '{"seed":1,"minCount":3}' /tmp/h13slot/heldout-s1 [dump.jsonl]
// Override keys: any SlotTrainOptions (seed, epochs, dim, lr, featureDropout, minCount, intentDropout, ...),
// featurizer (partial SlotFeaturizerSettings), extraTrain (list of intent files in the dataset dir), classes (a word
// class table file: word TAB class TAB class ..., coarse first) with classCols (its columns to use, default [0, 1]).
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const T = await import(`${D}/train/tagger.js`);
const { slotPrf, addSlotCounts, emptySlotCounts } = await import(`${D}/train/tagger-eval.js`);
const { tokenize } = await import(`${D}/model/text.js`);
const { normalizeSlotValue, slotKey } = await import(`${D}/model/slot-values.js`);
const { RECIPES } = await import(`${D}/train/recipes.js`);
import { readFileSync, writeFileSync } from 'node:fs';
const over = JSON.parse(process.argv[2] ?? '{}');
const heldDir = process.argv[3];
const dumpFile = process.argv[4];
const I = (f) => `${DS}/intent/${f}`;
let train = [...(await T.readIntentRows(I('hwu64.train.jsonl'))), ...(await T.readIntentRows(I('mindmeld.train.jsonl')))];
for (const f of over.extraTrain ?? []) train.push(...(await T.readIntentRows(I(f))));
if (over.snips) train.push(...snipsRows(await T.readIntentRows(I('snips.train.jsonl')), over.snips));

/**
 * SNIPS rows whose intent and every slot map cleanly onto the ontology (others are left out whole, so no
 * token of a kept row is wrongly labelled O): GetWeather → weather_query, PlayMusic → play_music.
 */
function snipsRows(rows, which) {
  const INTENT = { GetWeather: 'weather_query', PlayMusic: 'play_music' };
  const SLOT = {
    city: 'place_name', country: 'place_name', state: 'place_name', condition_description: 'weather_descriptor', condition_temperature: 'weather_descriptor',
    artist: 'artist_name', genre: 'music_genre', track: 'song_name', playlist: 'playlist_name', service: 'app_name',
  };
  const out = [];
  for (const r of rows) {
    const intent = INTENT[r.intent];
    if (!intent || (which !== 'both' && which !== intent)) continue;
    if (!r.slots.every((s) => SLOT[s.type])) continue;
    out.push({ text: r.text, intent, slots: r.slots.map((s) => ({ ...s, type: SLOT[s.type] })) });
  }
  console.log(`snips: ${out.length} rows added`);
  return out;
}
const dev = await T.readIntentRows(I('slurp.devel.jsonl'));
const held = heldDir ? JSON.parse(readFileSync(`${heldDir}/intents.json`, 'utf8')) : null;
const { extraTrain: _e, snips: _s, classes: classFile, classCols, classIntent, classBigrams, classWindow2, ...opts } = over;
if (classFile) {
  // Word class table (issue 13): word TAB class TAB class ..., coarse first; classCols picks columns.
  const cols = classCols ?? [0, 1];
  const { HashedWordClasses } = await import(`${D}/model/slot-features.js`);
  const table = HashedWordClasses.fromTsv(readFileSync(classFile, 'utf8'), cols);
  opts.featurizer = { ...(opts.featurizer ?? {}), version: 2, wordClasses: { file: classFile, granularities: cols.length, intentGranularity: classIntent ?? cols.length - 1, ...(classBigrams ? { bigrams: true } : {}), ...(classWindow2 ? { window2: true } : {}) } };
  opts.wordClassTable = table;
}
const t0 = performance.now();
const m = T.trainSlotTagger(train, { ...(RECIPES.intent.slots ?? {}), ...opts });
const secs = (performance.now() - t0) / 1000;
const q = T.int8View(m);
const lookup = T.rowLookup(q.kept);
const conds = { pipeline: (i) => (held ? (held.intents[i].known ? held.intents[i].name : null) : dev[i].intent), gold: (i) => dev[i].intent, top: (i) => (held ? held.intents[i].alt : dev[i].intent), none: () => null };
const res = {};
const errs = { boundary: 0, type: 0, typeBoundary: 0, missed: 0, spurious: 0, valueOnly: 0 };
const perType = new Map();
const bnd = new Map();
const dump = [];
for (const [name, intentOf] of Object.entries(conds)) {
  const c = emptySlotCounts();
  for (let i = 0; i < dev.length; i++) {
    const r = dev[i];
    const pred = T.tagWithWeights(q, lookup, r.text, tokenize(r.text), intentOf(i));
    const gold = T.goldSlots(r);
    addSlotCounts(c, gold, pred, name === 'pipeline' ? perType : undefined);
    if (name !== 'pipeline') continue;
    // Error breakdown: match by key first, then classify the leftovers by span overlap.
    const gk = (r.slots ?? []).map((s) => ({ ...s, key: slotKey(s.type, normalizeSlotValue(s.type, r.text.slice(s.start, s.end))), used: false }));
    const pk = pred.map((p) => ({ ...p, key: slotKey(p.type, normalizeSlotValue(p.type, p.raw)), used: false }));
    for (const p of pk) { const g = gk.find((g) => !g.used && g.key === p.key); if (g) { g.used = true; p.used = true; } }
    const ov = (a, b) => a.start < b.end && b.start < a.end;
    for (const g of gk.filter((g) => !g.used)) {
      const p = pk.find((p) => !p.used && ov(p, g));
      const graw = r.text.slice(g.start, g.end);
      let kind;
      if (!p) kind = 'missed';
      else {
        p.used = true;
        const same = p.start === g.start && p.end === g.end;
        if (p.type === g.type) kind = same ? 'valueOnly' : 'boundary';
        else kind = same ? 'type' : 'typeBoundary';
        if (kind === 'boundary') {
          const k = `${g.type}: ${p.start < g.start ? '+L' : p.start > g.start ? '-L' : ''}${p.end > g.end ? '+R' : p.end < g.end ? '-R' : ''}`;
          bnd.set(k, (bnd.get(k) ?? 0) + 1);
        }
        dump.push({ kind, text: r.text, intent: intentOf(i), gold: `${g.type}=${graw}`, pred: `${p.type}=${p.raw}` });
      }
      if (kind === 'missed') dump.push({ kind, text: r.text, intent: intentOf(i), gold: `${g.type}=${graw}` });
      errs[kind]++;
    }
    for (const p of pk.filter((p) => !p.used)) { errs.spurious++; dump.push({ kind: 'spurious', text: r.text, intent: intentOf(i), pred: `${p.type}=${p.raw}`, gold: (r.slots ?? []).map((s) => `${s.type}=${r.text.slice(s.start, s.end)}`).join('; ') }); }
  }
  res[name] = slotPrf(c);
}
const pct = (x) => (100 * x).toFixed(2);
console.log(`RESULT ${JSON.stringify(over)} pipeline F1 ${pct(res.pipeline.f1)} (P ${pct(res.pipeline.precision)} R ${pct(res.pipeline.recall)}) gold F1 ${pct(res.gold.f1)} top-intent F1 ${pct(res.top.f1)} none F1 ${pct(res.none.f1)} rows ${m.kept.length + 1} train ${secs.toFixed(1)} s cpu ${(process.cpuUsage().user / 1e6).toFixed(0)} s${held ? ` intents seed ${held.seed}` : ''}`);
if (dumpFile) {
  writeFileSync(dumpFile, dump.map((d) => JSON.stringify(d)).join('\n') + '\n');
  console.log('errors', JSON.stringify(errs));
  console.log('boundary', JSON.stringify([...bnd.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)));
  console.log('| type | gold | pred | P | R | F1 |');
  for (const [t, c] of [...perType.entries()].sort((a, b) => b[1].gold - a[1].gold)) {
    if (c.gold < 5) continue;
    const p = slotPrf(c);
    console.log(`| ${t} | ${c.gold} | ${c.pred} | ${pct(p.precision)} | ${pct(p.recall)} | ${pct(p.f1)} |`);
  }
}
