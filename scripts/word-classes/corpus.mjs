// Issue 13, word classes for the slot tagger, step 1: every English text in the datasets except the dev and
// evaluation sets (hwu64, mindmeld, snips, SLURP's unlabelled text, goemotions / semeval / sst3 train), tokenised
// and normalised by hubnlu's tokenize() (numbers as <num>), one sentence a line (sentences of one token dropped).
//   npm run build && node scripts/word-classes/corpus.mjs /tmp/wc/corpus.txt
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { tokenize } = await import(`${D}/model/text.js`);
import { readFileSync, writeFileSync } from 'node:fs';
const texts = [];
const jl = (f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).text);
for (const f of ['intent/hwu64.train.jsonl', 'intent/mindmeld.train.jsonl', 'intent/snips.train.jsonl', 'sentiment/goemotions.train.jsonl', 'sentiment/semeval.train.jsonl', 'sentiment/sst3.train.jsonl']) texts.push(...jl(`${DS}/${f}`));
texts.push(...readFileSync(`${DS}/intent/slurp.train.unlabelled.txt`, 'utf8').split('\n').filter((l) => l.trim()));
const out = texts.map((t) => tokenize(t).map((x) => (x.isNumber ? '<num>' : x.norm)).join(' ')).filter((l) => l.includes(' '));
writeFileSync(process.argv[2], out.join('\n') + '\n');
console.log(out.length, 'sentences');
