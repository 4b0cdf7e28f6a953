// Issue 13, joint intent + slots (step 2): for each row of EVAL (a JSONL intent file), runs a trained model directory's
// int8 classifier and int8 slot tagger (the shipped runtime classes, onnxruntime) and writes, for the classifier's top
// K intents, what joint decoding needs: the calibrated probability, the tagger's Viterbi path score under that intent
// (emissions + CRF transitions), its log-partition log Z (forward algorithm), and the decoded slots; plus the slots
// decoded with no intent (what the pipeline does below the unknown threshold). joint-grid.mjs scores the dumps.
//   nice -n 19 node scripts/intent-experiments/joint-dump.mjs MODEL_DIR EVAL.jsonl OUT.jsonl [K]
const D = new URL('../../dist/src', import.meta.url).pathname;
const { TextClassifier } = await import(`${D}/model/classifier.js`);
const { SlotTagger, viterbiBioCrf, BioCrf, spansFromTags, slotsFromSpans } = await import(`${D}/model/slot-tagger.js`);
const { loadManifest } = await import(`${D}/model/manifest.js`);
const { tokenize } = await import(`${D}/model/text.js`);
const { readIntentRows, goldSlots } = await import(`${D}/train/tagger.js`);
import { writeFileSync } from 'node:fs';
const [dir, evalFile, outFile, kArg] = process.argv.slice(2);
const K = Number(kArg ?? 3);
const manifest = loadManifest(dir);
const cls = await TextClassifier.load(dir, manifest);
const tagger = await SlotTagger.load(dir, manifest);
const trans = tagger.transitions; // private in TypeScript; read here for the path score
const nTags = tagger.section.tags.length;
const types = tagger.section.types;
const crf = new BioCrf(nTags);
crf.setTransitions(trans);
const rows = await readIntentRows(evalFile);
const out = [];
function pathScore(s, n, tags) {
  let v = trans[nTags * nTags + tags[0]] + trans[(nTags + 1) * nTags + tags[n - 1]];
  for (let t = 0; t < n; t++) v += s[t * nTags + tags[t]];
  for (let t = 1; t < n; t++) v += trans[tags[t - 1] * nTags + tags[t]];
  return v;
}
async function decodeUnder(text, tokens, intent) {
  const n = tokens.length;
  const s = Float32Array.from(await tagger.rawScores(tokens, intent));
  const tags = viterbiBioCrf(s, n, nTags, trans);
  const path = pathScore(s, n, tags);
  const logZ = crf.marginals(s, n, new Float32Array(n * nTags));
  const slots = slotsFromSpans(text, tokens, spansFromTags(tags, types)).map((x) => ({ type: x.type, raw: x.raw }));
  return { path, logZ, slots, s };
}
/** Slots decoded from emission scores mixed over intents: Σ w_i · scores_i (the tagger's expectation over the intent). */
function decodeMix(text, tokens, parts) {
  const n = tokens.length;
  const m = new Float32Array(n * nTags);
  for (const [w, s] of parts) for (let i = 0; i < m.length; i++) m[i] += w * s[i];
  return slotsFromSpans(text, tokens, spansFromTags(viterbiBioCrf(m, n, nTags, trans), types)).map((x) => ({ type: x.type, raw: x.raw }));
}
for (const r of rows) {
  const intent = r.intent ?? r.label;
  const tokens = tokenize(r.text);
  const rec = { gold: intent, goldSlots: goldSlots({ ...r, intent }), n: tokens.length, cands: [], none: null };
  if (tokens.length > 0) {
    const c = await cls.classify(tokens, r.text);
    for (const x of c.ranked.slice(0, K)) rec.cands.push({ name: x.name, p: x.confidence, ...(await decodeUnder(r.text, tokens, x.name)) });
    rec.none = await decodeUnder(r.text, tokens, null);
    // Mixtures: mixTop over the top K renormalised; mixAll over the top K with the rest of the mass on no intent.
    const mass = rec.cands.reduce((a, c) => a + c.p, 0);
    rec.mixTop = decodeMix(r.text, tokens, rec.cands.map((c) => [c.p / mass, c.s]));
    rec.mixAll = decodeMix(r.text, tokens, [...rec.cands.map((c) => [c.p, c.s]), [1 - mass, rec.none.s]]);
    // mixAll pruned for speed: intents under 0.05 pass their mass to no intent, which is left out under 0.05.
    const kept = rec.cands.filter((c) => c.p >= 0.05);
    const rest = 1 - kept.reduce((a, c) => a + c.p, 0);
    const parts = [...kept.map((c) => [c.p, c.s]), ...(rest >= 0.05 ? [[rest, rec.none.s]] : [])];
    const z = parts.reduce((a, x) => a + x[0], 0);
    rec.mixPruned = decodeMix(r.text, tokens, parts.map(([w, s]) => [w / z, s]));
    rec.mixPrunedParts = parts.length;
    for (const c of rec.cands) delete c.s;
    delete rec.none.s;
  }
  out.push(rec);
}
writeFileSync(outFile, out.map((x) => JSON.stringify(x)).join('\n') + '\n');
await cls.dispose();
await tagger.dispose();
console.log(`dumped ${out.length} rows, threshold ${manifest.calibration.threshold}, temperature ${manifest.calibration.temperature}`);
