/**
 * From a token-classification model's per-token labels to hubnlu slots:
 * where each subword token lies in the original text (the tokenizer gives no
 * offsets), words from subwords, BIO spans, and `SlotResult`s with character
 * offsets into the text exactly as it arrived.
 */
import { normalizeSlotValue } from './slot-values.js';
import type { SlotResult } from './types.js';

export interface TokenSpan {
  /** The token as the vocabulary spells it (`##ing`, `Ġthe`, `▁the`). */
  readonly token: string;
  /** Character offsets into the original text, or null where the token could not be placed (`[UNK]` runs excepted). */
  readonly start: number;
  readonly end: number;
  /** Whether the token continues the previous token's word (WordPiece `##`, or no space before it in BPE/SentencePiece). */
  readonly continues: boolean;
}

/** Lower case without accents, one entry per input code unit (so indices map back). */
function foldChar(c: string): string {
  return c.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * Places tokens (special tokens already removed) in `text`. Matching ignores
 * case and accents, as uncased tokenizers do. A token that cannot be found is
 * left out (it gets no slot).
 */
export function alignTokens(text: string, tokens: readonly string[], options: { unkToken?: string; wordPiece?: boolean } = {}): TokenSpan[] {
  const unkToken = options.unkToken ?? '[UNK]';
  // WordPiece marks continuations (`##`); other schemes mark word starts (Ġ, ▁) or rely on spaces.
  const wordPiece = options.wordPiece ?? tokens.some((t) => t.startsWith('##'));
  // folded[k] comes from text[origin[k]]; one input char may fold to several.
  let folded = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const f = foldChar(text[i]);
    for (let k = 0; k < f.length; k++) origin.push(i);
    folded += f;
  }
  origin.push(text.length);
  const out: TokenSpan[] = [];
  let at = 0;
  for (const token of tokens) {
    let piece = token;
    let continues = false;
    if (piece.startsWith('##')) {
      piece = piece.slice(2);
      continues = true;
    } else if (piece.startsWith('\u0120') || piece.startsWith('\u2581')) {
      piece = piece.slice(1); // BPE Ġ / SentencePiece ▁: a space before it
    }
    const from = at;
    while (at < folded.length && /\s/.test(folded[at])) at++;
    const marked = token.startsWith('##') || token.startsWith('\u0120') || token.startsWith('\u2581');
    if (!marked && !wordPiece) continues = out.length > 0 && at === from && from > 0;
    if (token === unkToken) {
      // [UNK] stands for one word: up to the next space or punctuation.
      const s = at;
      while (at < folded.length && !/[\s\p{P}]/u.test(folded[at])) at++;
      if (at === s && at < folded.length) at++;
      out.push({ token, start: origin[s], end: origin[at], continues });
      continue;
    }
    const p = foldChar(piece);
    if (p === '') continue;
    const found = folded.startsWith(p, at) ? at : folded.indexOf(p, at);
    if (found < 0) {
      at = from;
      continue;
    }
    if (found !== at && !wordPiece) continues = false;
    at = found + p.length;
    out.push({ token, start: origin[found], end: origin[at - 1] + 1, continues });
  }
  return out;
}

export interface TokenLabel {
  readonly span: TokenSpan;
  /** The label of the most likely class and its probability. */
  readonly label: string;
  readonly probability: number;
}

/** `B-room` → ['B', 'room']; `I_room` → ['I', 'room']; `O` → ['O', '']; a bare `room` is inside a `room` span. */
export function splitBio(label: string): ['B' | 'I' | 'O', string] {
  if (label === 'O' || label === '') return ['O', ''];
  const m = /^([BIES])[-_](.+)$/.exec(label);
  if (!m) return ['I', label];
  return [m[1] === 'B' || m[1] === 'S' ? 'B' : 'I', m[2]];
}

/**
 * BIO spans over words (a word's label is its first subword's, as Hugging
 * Face's "first" aggregation), as slots. `I-x` after something other than `x`
 * starts a new `x` span. Confidence: the mean of the words' label probabilities.
 * `typeMap` renames entity types (`LOC` → `house_place`).
 */
export function bioSlots(text: string, labelled: readonly TokenLabel[], typeMap: Readonly<Record<string, string>> = {}): SlotResult[] {
  interface Word { start: number; end: number; tag: 'B' | 'I' | 'O'; type: string; p: number }
  const words: Word[] = [];
  for (const t of labelled) {
    const last = words[words.length - 1];
    if (t.span.continues && last) {
      last.end = Math.max(last.end, t.span.end);
      continue;
    }
    const [tag, type] = splitBio(t.label);
    words.push({ start: t.span.start, end: t.span.end, tag, type, p: t.probability });
  }
  const slots: SlotResult[] = [];
  let cur: { type: string; start: number; end: number; ps: number[] } | null = null;
  const flush = (): void => {
    if (!cur) return;
    const raw = text.slice(cur.start, cur.end);
    const type = typeMap[cur.type] ?? cur.type;
    const v = normalizeSlotValue(type, raw);
    const confidence = cur.ps.reduce((a, b) => a + b, 0) / cur.ps.length;
    const base = { type, value: v.value, raw, start: cur.start, end: cur.end, confidence };
    slots.push(v.unit ? { ...base, unit: v.unit } : base);
    cur = null;
  };
  for (const w of words) {
    if (w.tag === 'O') {
      flush();
    } else if (w.tag === 'I' && cur && cur.type === w.type) {
      cur.end = w.end;
      cur.ps.push(w.p);
    } else {
      flush();
      cur = { type: w.type, start: w.start, end: w.end, ps: [w.p] };
    }
  }
  flush();
  return slots;
}
