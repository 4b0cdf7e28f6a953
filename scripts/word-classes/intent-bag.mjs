// Issue 13 experiment (measured, not shipped): the held-out intent classifier (train-defaults' recipe, no tagger) with
// each word's classes from en.tsv appended to every text as pseudo-words (model card, "What was tried").
//   npm run build && nice -n 19 node scripts/word-classes/intent-bag.mjs SEED cls 2,3   (or base; writes /tmp/hi/icls-MODE)
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { trainModel } = await import(`${D}/train/pipeline.js`);
const { tokenize } = await import(`${D}/model/text.js`);
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
const seed = Number(process.argv[2]); const mode = process.argv[3]; const cols = (process.argv[4] ?? '2,3').split(',').map(Number);
const I = (f) => `${DS}/intent/${f}`;
const dir = `/tmp/hi/icls-${mode}`; mkdirSync(dir, { recursive: true });
const table = new Map();
for (const l of readFileSync(new URL('./en.tsv', import.meta.url).pathname, 'utf8').split('\n')) { if (!l) continue; const [w, ...c] = l.split('\t'); table.set(w, c.map(Number)); }
const L = (n) => { let s = ''; do { s += String.fromCharCode(97 + (n % 26)); n = Math.floor(n / 26); } while (n > 0); return s; };
const aug = (t) => mode === 'base' ? t : t + ' ' + tokenize(t).flatMap((x) => { const c = table.get(x.norm); return c ? cols.map((g) => `qz${'abcd'[g]}${L(c[g])}`) : []; }).join(' ');
const files = {};
for (const f of ['hwu64.train.jsonl', 'mindmeld.train.jsonl', 'slurp.devel.jsonl']) {
  const rows = readFileSync(I(f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => { const r = JSON.parse(l); return JSON.stringify({ ...r, text: aug(r.text) }); });
  writeFileSync(`${dir}/${f}`, rows.join('\n') + '\n'); files[f] = `${dir}/${f}`;
}
writeFileSync(`${dir}/u.txt`, readFileSync(I('slurp.train.unlabelled.txt'), 'utf8').split('\n').filter((l) => l.trim()).map(aug).join('\n') + '\n');
const t0 = process.cpuUsage().user;
const r = await trainModel({ task: 'intent', trainFiles: [files['hwu64.train.jsonl'], files['mindmeld.train.jsonl']], devFiles: [files['slurp.devel.jsonl']], unlabelledFile: `${dir}/u.txt`, out: `${dir}/m${seed}`, force: true, name: 'icls', seed, slots: false });
const dev = Object.values(r.dev)[0];
console.log('RESULT', mode, cols.join(','), 'seed', seed, 'acc', (100 * dev.accuracy).toFixed(2), 'mF1', dev.macro_f1.toFixed(4), 'classifier s', r.seconds.classifier.toFixed(1), 'cpu', ((process.cpuUsage().user - t0) / 1e6).toFixed(0));
