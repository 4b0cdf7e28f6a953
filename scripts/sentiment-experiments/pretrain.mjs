// Issue 13: skip-gram pre-training (src/train/skipgram.ts) on all the unlabelled English text the datasets hold,
// for the sentiment experiments' word view (exp.mjs `frozen`). The corpus: every English text in
// the datasets directory ($HUBNLU_DATASETS) except the dev sets (meld.dev, goemotions.dev, sst3.dev, slurp.devel) and the semeval.train
// rows held out by seeds 1, 2 and 3 (also dropped from tweeteval.val, which repeats semeval): goemotions.train,
// semeval.train, sst3.train, tweeteval.val, hwu64.train, mindmeld.train, snips.train, slurp.train.unlabelled.
// Cached in $TMPDIR by settings.
//   export { corpus, pretrained(settings, options) }
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const { readRows, readLines } = await import(`${D}/data/rows.js`);
const { stratifiedSplit } = await import(`${D}/data/random.js`);
const { normalizeText } = await import(`${D}/model/text.js`);
const { pretrainSkipGram } = await import(`${D}/train/skipgram.js`);
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';

export function corpus() {
  const S = (f) => readRows(`${DS}/sentiment/${f}`, 'sentiment').rows;
  const I = (f) => readRows(`${DS}/intent/${f}`, 'intent').rows;
  const sem = S('semeval.train.jsonl');
  const held = new Set();
  for (const seed of [1, 2, 3]) for (const r of stratifiedSplit(sem, 0.05, seed)[1]) held.add(normalizeText(r.text));
  const texts = [
    ...S('goemotions.train.jsonl'), ...sem, ...S('sst3.train.jsonl'), ...S('tweeteval.val.jsonl'),
    ...I('hwu64.train.jsonl'), ...I('mindmeld.train.jsonl'), ...I('snips.train.jsonl'),
  ].map((r) => r.text).concat(readLines(`${DS}/intent/slurp.train.unlabelled.txt`));
  return texts.filter((t) => !held.has(normalizeText(t)));
}

export function pretrained(settings, options) {
  const key = createHash('sha1').update(JSON.stringify({ settings: { ...settings, lexicon: undefined }, options, v: 1 })).digest('hex').slice(0, 12);
  const file = `${tmpdir()}/hsent-sg-${key}.bin`;
  if (existsSync(file)) {
    const b = readFileSync(file);
    const n = b.readUInt32LE(0), dim = b.readUInt32LE(4);
    const ab = b.buffer.slice(b.byteOffset + 8, b.byteOffset + 8 + n * 4 * (1 + dim));
    return { dim, ids: new Uint32Array(ab, 0, n), vectors: new Float32Array(ab, n * 4, n * dim), stats: null };
  }
  const p = pretrainSkipGram(corpus(), settings, options);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(p.ids.length, 0);
  head.writeUInt32LE(p.dim, 4);
  writeFileSync(file, Buffer.concat([head, Buffer.from(p.ids.buffer, p.ids.byteOffset, p.ids.byteLength), Buffer.from(p.vectors.buffer, p.vectors.byteOffset, p.vectors.byteLength)]));
  console.error(`skip-gram: ${JSON.stringify(p.stats)} → ${file}`);
  return p;
}
