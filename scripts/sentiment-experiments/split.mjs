// Writes the teacher experiment's data (teacher.py) into the directory given: the student's training rows
// (goemotions + 95 % of semeval + sst3, the seed-1 split of train-defaults) and the four dev sets + short commands.
//   npm run build && node scripts/sentiment-experiments/split.mjs /tmp/sent && /usr/bin/python3 scripts/sentiment-experiments/teacher.py /tmp/sent
const D = new URL('../../dist/src', import.meta.url).pathname;
if (!process.env.HUBNLU_DATASETS) { console.error('set HUBNLU_DATASETS to the datasets directory (holding intent/ and sentiment/; README, Reproduce)'); process.exit(2); }
const DS = process.env.HUBNLU_DATASETS;
const OUT = process.argv[2] ?? '.';
const { readRows } = await import(`${D}/data/rows.js`);
const { stratifiedSplit } = await import(`${D}/data/random.js`);
const { neutralCommandRows } = await import(`${D}/train/defaults.js`);
import { writeFileSync } from 'node:fs';
const S = (f) => `${DS}/sentiment/${f}`;
const w = (f, rows) => writeFileSync(`${OUT}/${f}`, rows.map((r) => JSON.stringify({ text: r.text, label: r.label })).join('\n') + '\n');
const sem = readRows(S('semeval.train.jsonl'), 'sentiment').rows;
const [keep, held] = stratifiedSplit(sem, 0.05, 1);
w('train.jsonl', [...readRows(S('goemotions.train.jsonl'), 'sentiment').rows, ...keep, ...readRows(S('sst3.train.jsonl'), 'sentiment').rows]);
w('dev_semeval.jsonl', held);
for (const f of ['meld', 'goemotions', 'sst3']) w(`dev_${f}.jsonl`, readRows(S(`${f}.dev.jsonl`), 'sentiment').rows);
w('dev_cmd.jsonl', neutralCommandRows(`${DS}/intent/slurp.devel.jsonl`));
