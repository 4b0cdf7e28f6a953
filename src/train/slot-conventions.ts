/**
 * Slot annotation conventions (issue 13): MindMeld's converted rows mark every
 * time expression as one `time` slot ("tomorrow", "on monday", "tomorrow
 * morning", "at 7 am", "right now"), while HWU64 and SLURP, the ontology the
 * tagger is scored on, split them: `date` ("tomorrow", "monday", "next week"),
 * `timeofday` ("morning", "tonight"), `time` ("seven am", "ten minutes"), no
 * slot for "now", and no leading "at" / "on". Trained on both, the tagger
 * learned "tomorrow" as `time` in weather questions (MindMeld's 181 weather
 * rows) and lost those dates on slurp.devel.
 *
 * `hwuTimeSlots` rewrites one MindMeld `time` slot into HWU64's convention,
 * with rules read off HWU64's own annotations (counts in the comments are
 * HWU64 + SLURP slot values). Only the training rows change; the runtime and
 * the scoring are untouched.
 */
import type { GoldSlot, IntentRow } from './tagger.js';

const WEEKDAY = '(?:mon|tues|wednes|thurs|fri|satur|sun)days?';
/** Whole-span dates: "tomorrow", "next week", "this weekend", "friday" (HWU64 `date`: today 323, tomorrow 165, this week 74, …). */
const DATE = new RegExp(`^(?:today|tomorrow|yesterday|(?:(?:this|next|last|coming) )?(?:${WEEKDAY}|week|weekend|month|year)|next \\S+ days)$`);
/** Times of day (HWU64 `timeofday`: morning 73, tonight 50, evening 19, noon 13, this afternoon 6, …). */
const TIMEOFDAY = /^(?:(?:this )?(?:afternoon|evening)|morning|night|tonight|noon)$/;
/** "now" is never a slot in HWU64 (190 occurrences unlabelled). */
const NOW = /^(?:right )?now$/;

interface Word {
  readonly w: string;
  readonly start: number;
  readonly end: number;
}

function words(text: string, start: number, end: number): Word[] {
  const out: Word[] = [];
  const re = /\S+/g;
  const span = text.slice(start, end);
  for (let m = re.exec(span); m; m = re.exec(span)) out.push({ w: m[0].toLowerCase(), start: start + m.index, end: start + m.index + m[0].length });
  return out;
}

function classify(ws: readonly Word[]): 'date' | 'timeofday' | 'now' | null {
  const s = ws.map((x) => x.w).join(' ');
  if (NOW.test(s)) return 'now';
  if (DATE.test(s)) return 'date';
  if (TIMEOFDAY.test(s)) return 'timeofday';
  return null;
}

function slotOf(type: string, ws: readonly Word[], text: string): GoldSlot {
  const start = ws[0].start;
  const end = ws[ws.length - 1].end;
  return { type, start, end, value: text.slice(start, end) };
}

/**
 * One MindMeld `time` slot in HWU64's convention: leading "at" / "on" (and
 * "in the", "the", "this" before "morning") dropped; "now" dropped; a date or
 * time of day alone retyped; "tomorrow morning" → date + timeofday; "7 am
 * tomorrow" → time + date. Anything else stays one `time` slot.
 */
export function hwuTimeSlots(text: string, slot: GoldSlot): GoldSlot[] {
  let ws = words(text, slot.start, slot.end);
  while (ws.length > 1 && (ws[0].w === 'at' || ws[0].w === 'on')) ws = ws.slice(1);
  if (ws.length > 1 && ws[0].w === 'in' && ws[1].w === 'the') ws = ws.slice(1);
  if (ws.length > 1 && (ws[0].w === 'the' || ws[0].w === 'this') && ws[ws.length - 1].w === 'morning') ws = ws.slice(1);
  if (ws.length === 0) return [];
  const whole = classify(ws);
  if (whole === 'now') return [];
  if (whole) return [slotOf(whole, ws, text)];
  // Two parts: the longest split where both sides are known kinds, or one side is a date / time of day and the other a time.
  for (let k = 1; k < ws.length; k++) {
    const a = ws.slice(0, k);
    const b = ws.slice(k);
    const ka = classify(a);
    const kb = classify(b);
    if (ka === 'now' || kb === 'now' || (!ka && !kb)) continue;
    return [slotOf(ka ?? 'time', a, text), slotOf(kb ?? 'time', b, text)];
  }
  return [slotOf('time', ws, text)];
}

const isMindMeld = (r: IntentRow): boolean => !!r.source?.startsWith('mindmeld');

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Values the other rows (HWU64) label consistently, per intent, with a type MindMeld never annotates:
 * (intent, lower-case value) → type, where the value is labelled at least `minCount` times in rows of
 * that intent and left unlabelled in at most 1 − `minShare` of its other whole-word occurrences in rows of that
 * intent (weather_query: "rain", "temperature", "umbrella", "hot", …).
 */
export function consistentValues(rows: readonly IntentRow[], minCount = 2, minShare = 0.75): Map<string, Map<string, string>> {
  const mmTypes = new Set(rows.filter(isMindMeld).flatMap((r) => (r.slots ?? []).map((s) => s.type)));
  const others = rows.filter((r) => !isMindMeld(r));
  const labelled = new Map<string, { type: string; n: number }>(); // intent \0 value → type, count
  for (const r of others) {
    for (const s of r.slots ?? []) {
      if (mmTypes.has(s.type)) continue;
      const k = `${r.intent}\u0000${r.text.slice(s.start, s.end).toLowerCase()}`;
      const e = labelled.get(k);
      if (!e) labelled.set(k, { type: s.type, n: 1 });
      else if (e.type === s.type) e.n++;
      else e.n = -Infinity; // labelled with two types: not consistent
    }
  }
  const out = new Map<string, Map<string, string>>();
  const byIntent = new Map<string, IntentRow[]>();
  for (const r of others) byIntent.set(r.intent, [...(byIntent.get(r.intent) ?? []), r]);
  for (const [k, e] of labelled) {
    if (e.n < minCount) continue;
    const [intent, value] = k.split('\u0000');
    const re = new RegExp(`(?<![\\p{L}\\p{N}'])${escapeRe(value)}(?![\\p{L}\\p{N}'])`, 'gu');
    // Occurrences outside every slot: the value said but not labelled.
    let unlabelled = 0;
    for (const r of byIntent.get(intent) ?? []) {
      for (const m of r.text.toLowerCase().matchAll(re)) {
        if (!(r.slots ?? []).some((s) => s.start < m.index + value.length && m.index < s.end)) unlabelled++;
      }
    }
    if (e.n / (e.n + unlabelled) < minShare) continue;
    if (!out.has(intent)) out.set(intent, new Map());
    out.get(intent)!.set(value, e.type);
  }
  return out;
}

/** `row` with every whole-word occurrence of a consistent value of its intent labelled, where no slot is yet. */
function addConsistentSlots(row: IntentRow, values: ReadonlyMap<string, string> | undefined): IntentRow {
  if (!values) return row;
  const slots: GoldSlot[] = [...(row.slots ?? [])];
  const lower = row.text.toLowerCase();
  // Longer values first, so "rain coat" wins over "rain".
  for (const [value, type] of [...values].sort((a, b) => b[0].length - a[0].length)) {
    const re = new RegExp(`(?<![\\p{L}\\p{N}'])${escapeRe(value)}(?![\\p{L}\\p{N}'])`, 'gu');
    for (const m of lower.matchAll(re)) {
      const start = m.index;
      const end = start + value.length;
      if (slots.some((s) => s.start < end && start < s.end)) continue;
      slots.push({ type, start, end, value: row.text.slice(start, end) });
    }
  }
  if (slots.length === (row.slots ?? []).length) return row;
  return { ...row, slots: slots.sort((a, b) => a.start - b.start) };
}

/**
 * Rows in HWU64's convention: MindMeld's `time` slots rewritten by `hwuTimeSlots`, and, with
 * `fillConsistent`, MindMeld rows given the slots HWU64 labels consistently in rows of the same
 * intent with a type MindMeld never annotates (`consistentValues`: "rain", "hot", "temperature" in
 * weather questions). Other rows are unchanged (the same objects).
 */
export function harmonizeSlotConventions(rows: readonly IntentRow[], fillConsistent = false): IntentRow[] {
  const values = fillConsistent ? consistentValues(rows) : new Map<string, Map<string, string>>();
  return rows.map((r) => {
    if (!isMindMeld(r)) return r;
    const timed = r.slots?.some((s) => s.type === 'time') ? { ...r, slots: r.slots.flatMap((s) => (s.type === 'time' ? hwuTimeSlots(r.text, s) : [s])) } : r;
    return addConsistentSlots(timed, values.get(r.intent));
  });
}
